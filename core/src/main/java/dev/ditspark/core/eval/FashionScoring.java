package dev.ditspark.core.eval;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.sample.SampleImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code dit eval} without {@code --ref}: a Fashion-MNIST samples .npz scored by the project's small classifier
 * (trained on the training split and cached on first use): accuracy by requested class and the Fréchet distance of
 * its features to the test set ({@link FashionEvaluation}), printed as three lines.
 */
public final class FashionScoring {
    /** Batch and learning rate of the classifier's training (docs/evaluation.md). */
    private static final int CLASSIFIER_BATCH = 128;
    private static final double CLASSIFIER_LR = 2e-3;

    private FashionScoring() {
    }

    /**
     * What to score.
     *
     * @param samples an .npz with arr_0 (N, 28, 28, 3) uint8 and, unless {@code labels} is given, labels (N)
     * @param labels the requested class of each sample, or null for the file's labels array
     * @param classifier the cached classifier's weights; trained and written there when missing
     * @param classifierSteps training steps (batch 128) when it is trained
     * @param threads CPU threads of libtorch
     */
    public record Request(Path samples, long[] labels, Path classifier, int classifierSteps, int threads) {
    }

    /**
     * Reads and checks the samples, then loads or trains the classifier and prints the classifier's test accuracy,
     * the class accuracy and the Fréchet distance on {@code out}.
     *
     * @param log the classifier's training lines, when it is trained
     * @throws IllegalArgumentException samples without labels, a label count that differs, images that are not
     *     28x28, or fewer than 2 samples: one line naming the option or file
     * @throws IOException a file cannot be read or written
     */
    public static void score(Request r, PrintWriter out, Consumer<String> log) throws IOException {
        SampleImages images = SampleImages.readNpz(r.samples());
        long[] y = r.labels() != null ? r.labels() : images.labels().orElseThrow(() -> new IllegalArgumentException(
                "--samples " + r.samples() + ": no labels array in the file; give --labels"));
        if (y.length != images.count()) {
            throw new IllegalArgumentException("--labels: " + y.length + " labels for " + images.count() + " samples in "
                    + r.samples());
        }
        if (images.height() != FashionMnist.SIZE || images.width() != FashionMnist.SIZE) {
            throw new IllegalArgumentException("--samples " + r.samples() + ": images are " + images.height() + "x"
                    + images.width() + ", the Fashion-MNIST classifier needs 28x28");
        }
        if (images.count() < 2) {
            throw new IllegalArgumentException("--samples " + r.samples() + ": the Frechet distance needs at least 2 samples");
        }
        TorchEngine.setThreads(r.threads());
        long t0 = System.nanoTime();
        try (NDManager manager = TorchEngine.newManager()) {
            FashionClassifier c = FashionClassifier.loadOrTrain(r.classifier(), FashionMnist.installed(),
                    training(r.classifierSteps()), manager, log);
            FashionEvaluation eval = FashionEvaluation.of(c, FashionMnist.installed(), manager);
            FashionEvaluation.Result s = eval.score(images.grayscale(), y);
            double floor = eval.realDataDistance(images.count());
            out.printf(Locale.ROOT, "classifier: %.1f%% accurate on the %d Fashion-MNIST test images%n",
                    100 * eval.testAccuracy(), eval.testCount());
            StringBuilder per = new StringBuilder();
            for (int k = 0; k < s.perClassAccuracy().length; k++) {
                if (!Double.isNaN(s.perClassAccuracy()[k])) {
                    per.append(per.isEmpty() ? "" : ", ").append(FashionMnist.CLASS_NAMES.get(k))
                            .append(String.format(Locale.ROOT, " %.0f%%", 100 * s.perClassAccuracy()[k]));
                }
            }
            out.printf(Locale.ROOT, "class accuracy: %.1f%% of %d samples classified as their requested class (%s)%n",
                    100 * s.accuracy(), s.count(), per);
            out.printf(Locale.ROOT, "Frechet distance: %.2f to the %d test images in the classifier's %d-d features "
                    + "(%d real training images: %.2f) [%.1f s]%n", s.frechetDistance(), eval.testCount(),
                    FashionClassifier.FEATURES, s.count(), floor, (System.nanoTime() - t0) / 1e9);
            out.flush();
        }
    }

    /** The classifier's training with {@code steps} steps (seed 0), as dit eval and dit demo train it. */
    public static FashionClassifier.Training training(int steps) {
        return new FashionClassifier.Training(steps, CLASSIFIER_BATCH, CLASSIFIER_LR, 0);
    }
}
