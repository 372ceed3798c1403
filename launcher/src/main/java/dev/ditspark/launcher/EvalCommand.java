package dev.ditspark.launcher;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.eval.FashionEvaluation;
import dev.ditspark.core.sample.SampleImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dit eval}: the quality of Fashion-MNIST samples as two numbers, from a small classifier the project
 * trains (and caches) on the training split: accuracy by requested class, and the Fréchet distance to the test
 * set in its feature space.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        header = "Score Fashion-MNIST samples: class accuracy and Frechet distance.",
        description = {"Score Fashion-MNIST samples (a dit sample .npz): the accuracy of a small classifier on them",
            "by requested class, and the Frechet distance of its features to the 10,000 test images.",
            "The classifier is trained on the training split on first use (~15 s on 2 idle cores) and cached.",
            "Example: dit eval --samples runs/demo/samples/samples.npz"})
public final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--samples", required = true, paramLabel = "NPZ",
            description = "Samples: arr_0 (N x 28 x 28 x 3 uint8) and labels (N), as dit sample writes them.")
    Path samples;

    @Option(names = "--labels", split = ",", description = "Requested class of each sample, if the .npz has no labels array.")
    List<Long> labels;

    @Option(names = "--classifier", paramLabel = "FILE", description = "Cached classifier weights; trained and written here if "
            + "missing (default: runs/classifier/" + FashionClassifier.CACHE_FILE + ", or the demo's runs/demo/classifier/"
            + FashionClassifier.CACHE_FILE + " when only that exists).")
    Path classifier;

    @Option(names = "--classifier-steps", defaultValue = "940",
            description = "Training steps (batch 128) when the classifier is trained (default: ${DEFAULT-VALUE}, two epochs).")
    int classifierSteps;

    @Option(names = "--threads", defaultValue = "2", description = "CPU threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Checks.inputFile("--samples", samples);
        Path cache = classifier != null ? classifier : FashionClassifier.cachedOrDefault(Path.of(""));
        if (!Files.exists(cache)) {
            Checks.outputFile("--classifier", cache); // it will be trained and written there: writable first
        } else {
            Checks.inputFile("--classifier", cache);
        }
        SampleImages images = SampleImages.readNpz(samples);
        long[] y = labels != null ? labels.stream().mapToLong(Long::longValue).toArray()
                : images.labels().orElseThrow(() -> new IllegalArgumentException("--samples " + samples
                        + ": no labels array in the file; give --labels"));
        if (y.length != images.count()) {
            throw new IllegalArgumentException("--labels: " + y.length + " labels for " + images.count() + " samples in " + samples);
        }
        if (images.height() != FashionMnist.SIZE || images.width() != FashionMnist.SIZE) {
            throw new IllegalArgumentException("--samples " + samples + ": images are " + images.height() + "x"
                    + images.width() + ", the Fashion-MNIST classifier needs 28x28");
        }
        if (images.count() < 2) {
            throw new IllegalArgumentException("--samples " + samples + ": the Frechet distance needs at least 2 samples");
        }
        TorchEngine.setThreads(threads);
        long t0 = System.nanoTime();
        try (NDManager manager = TorchEngine.newManager()) {
            FashionClassifier.Training training = new FashionClassifier.Training(classifierSteps, 128, 2e-3, 0);
            FashionClassifier c = FashionClassifier.loadOrTrain(cache, FashionMnist.installed(), training, manager,
                    line -> {
                        pw.println("      " + line);
                        pw.flush();
                    });
            FashionEvaluation eval = FashionEvaluation.of(c, FashionMnist.installed(), manager);
            FashionEvaluation.Result r = eval.score(images.grayscale(), y);
            double floor = eval.realDataDistance(images.count());
            pw.printf(Locale.ROOT, "classifier: %.1f%% accurate on the %d Fashion-MNIST test images%n",
                    100 * eval.testAccuracy(), eval.testCount());
            StringBuilder per = new StringBuilder();
            for (int k = 0; k < r.perClassAccuracy().length; k++) {
                if (!Double.isNaN(r.perClassAccuracy()[k])) {
                    per.append(per.isEmpty() ? "" : ", ").append(FashionMnist.CLASS_NAMES.get(k))
                            .append(String.format(Locale.ROOT, " %.0f%%", 100 * r.perClassAccuracy()[k]));
                }
            }
            pw.printf(Locale.ROOT, "class accuracy: %.1f%% of %d samples classified as their requested class (%s)%n",
                    100 * r.accuracy(), r.count(), per);
            pw.printf(Locale.ROOT, "Frechet distance: %.2f to the %d test images in the classifier's %d-d features "
                    + "(%d real training images: %.2f) [%.1f s]%n", r.frechetDistance(), eval.testCount(),
                    FashionClassifier.FEATURES, r.count(), floor, (System.nanoTime() - t0) / 1e9);
            pw.flush();
        }
        return 0;
    }
}
