package dev.ditspark.launcher;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.config.EvalSpec;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.eval.FashionScoring;
import dev.ditspark.core.plot.TrainingPlots;
import dev.ditspark.core.sample.SampleRequest;
import dev.ditspark.core.sample.SampleSelection;
import dev.ditspark.core.train.MetricsHistory;
import dev.ditspark.core.train.TrainingSamples;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dit demo}: the whole pipeline on a laptop: Fashion-MNIST (Debian's dataset-fashion-mnist) imported into
 * the shard format, a class-conditional pixel-space DiT trained on the CPU, a per-class sample grid.
 * Every stage resumes: rerunning after an interruption continues where it stopped.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Try it: Fashion-MNIST -> a small DiT trained on the CPU -> samples and quality numbers.",
        description = {"Run the embedded demo: import Fashion-MNIST, train a small DiT (~15 min on 2 cores),",
            "sample a per-class grid and score the samples (dit eval: class accuracy, Frechet distance).",
            "While it trains it draws a grid and scores 100 samples every sample.every / eval.every steps",
            "(OUT/checkpoints/samples, metrics.jsonl, plots/). Runs from any directory; rerun to resume;",
            "--set overrides conf/demo.yaml fields (e.g. --set train.max_steps=300 for a first try)."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo",
            description = "Run directory, relative to the working directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--config", paramLabel = "YAML",
            description = "Demo configuration (default: conf/demo.yaml of the dit-spark checkout bin/dit runs from).")
    Path config;

    @Mixin
    ConfigOverrides set;

    @Option(names = "--per-class", defaultValue = "100",
            description = "Samples per class, scored by dit eval (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--grid-per-class", defaultValue = "10", description = "Grid columns per class (default: ${DEFAULT-VALUE}).")
    int gridPerClass;

    @Option(names = "--classifier-steps", defaultValue = "940",
            description = "Training steps of the evaluation classifier when it is not cached yet (default: ${DEFAULT-VALUE}).")
    int classifierSteps;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Path yaml = Checks.inputFile("--config", config != null ? config : defaultConfig());
        Checks.outputDirectory("--out", out);
        Path data = out.resolve("data").toAbsolutePath().normalize();
        Path checkpoints = out.resolve("checkpoints").toAbsolutePath().normalize();
        Path classifierFile = out.resolve("classifier").resolve(FashionClassifier.CACHE_FILE).toAbsolutePath().normalize();
        if (!Files.exists(data.resolve("manifest.json"))) {
            pw.println("[1/4] importing Fashion-MNIST (train, 60000 images) into " + data);
            pw.flush();
            if (Files.exists(data)) {
                deleteRecursively(data); // an import interrupted before its manifest: start it again
            }
            DatasetManifest m = FashionMnist.installed().importTo(data.toUri().toString(), FashionMnist.Split.TRAIN,
                    Integer.MAX_VALUE, new Configuration());
            pw.println("      " + m.count() + " images in " + m.shards().size() + " shards");
        } else {
            pw.println("[1/4] Fashion-MNIST already imported at " + data);
        }
        // The evaluations while training score with the classifier the final dit eval uses (one cache, one model).
        List<String> all = new ArrayList<>(List.of("data.uri=" + data.toUri(), "checkpoint.uri=" + checkpoints.toUri(),
                "eval.classifier=" + classifierFile));
        all.addAll(set.overrides);
        RunConfig run = RunConfig.load(yaml, all);
        pw.println("[2/4] training (" + run.train().maxSteps() + " steps of " + run.train().globalBatch()
                + " images; checkpoints in " + checkpoints + ")");
        if (run.sample().every() > 0) {
            pw.println("      every " + run.sample().every() + " steps and at the end: a grid of the EMA weights in "
                    + checkpoints.resolve(TrainingSamples.DIRECTORY).resolve("step-NNNNNNNNN.png"));
        }
        if (run.eval().enabled()) {
            pw.println("      every " + run.eval().every() + " steps and at the end: " + run.eval().samples()
                    + " samples scored (class accuracy, Frechet distance) into " + checkpoints.resolve(MetricsHistory.FILE_NAME));
            if (run.eval().metric().equals(EvalSpec.FASHION)) {
                prepareClassifier(classifierFile, run, pw);
            }
        }
        pw.flush();
        int trained = TrainCommand.trainHere(run, null, pw);
        if (trained != 0) {
            return trained; // stopped by a signal, with a checkpoint: rerunning the demo resumes
        }
        pw.println("[3/4] sampling " + perClass + " images per class with the EMA weights");
        pw.flush();
        SampleRequest request = SampleRequest.fromCheckpoint(checkpoints.toUri().toString(),
                SampleSelection.perClass(perClass, Math.min(gridPerClass, perClass)), out.resolve("samples").toString());
        int code;
        try {
            code = SampleCommand.sample(request, null, 1, SparkSubmission.Options.none(), pw, spec.commandLine().getErr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sampling", e);
        }
        if (code != 0) {
            return code;
        }
        pw.println("grid: " + out.resolve("samples/grid.png") + " (row c = class c: "
                + String.join(", ", FashionMnist.CLASS_NAMES) + ")");
        pw.println("[4/4] scoring the samples (dit eval)");
        pw.flush();
        code = EvalCommand.fashion(out.resolve("samples/samples.npz"), null, classifierFile, classifierSteps,
                run.train().threads() != null ? run.train().threads() : EvalCommand.DEFAULT_THREADS, pw);
        if (code == 0) {
            printWhere(pw, out.resolve("samples").toAbsolutePath().normalize(), checkpoints);
        }
        return code;
    }

    /** The demo's results, as absolute paths (the demo runs from any working directory). */
    static void printWhere(PrintWriter pw, Path samples, Path runDir) {
        Path plots = runDir.resolve(TrainingPlots.DIRECTORY);
        pw.println("results:");
        pw.println("  final grid (row c = class c):  " + samples.resolve("grid.png"));
        pw.println("  samples for dit eval:          " + samples.resolve("samples.npz"));
        pw.println("  grids while training:          " + runDir.resolve(TrainingSamples.DIRECTORY) + "/step-*.png");
        pw.println("  metrics (one JSON line a log): " + runDir.resolve(MetricsHistory.FILE_NAME));
        pw.println("  plots:                         " + plots.resolve("loss.png") + ", throughput.png, eval.png");
        pw.println("  redraw the plots:              bin/dit plot " + runDir);
        pw.flush();
    }

    /**
     * The evaluation classifier, trained on the training split (--classifier-steps) before training when it is not
     * cached yet, so the evaluations while training and the final dit eval score with the same one.
     */
    private void prepareClassifier(Path file, RunConfig run, PrintWriter pw) throws IOException {
        if (Files.exists(file)) {
            return;
        }
        if (run.train().threads() != null) {
            TorchEngine.setThreads(run.train().threads());
        }
        try (NDManager manager = TorchEngine.newManager()) {
            FashionClassifier.loadOrTrain(file, FashionMnist.installed(), FashionScoring.training(classifierSteps),
                    manager, line -> {
                        pw.println("      " + line);
                        pw.flush();
                    });
        }
    }

    /**
     * conf/demo.yaml of the checkout: under the dit.home that bin/dit passes (so the demo runs from any
     * directory), else under the working directory.
     */
    static Path defaultConfig() {
        return Path.of(System.getProperty("dit.home", ".")).resolve("conf/demo.yaml");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
