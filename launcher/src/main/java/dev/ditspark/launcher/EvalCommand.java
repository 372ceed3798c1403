package dev.ditspark.launcher;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.AdmEvaluation;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.eval.FashionScoring;
import dev.ditspark.dataprep.ReferenceFolder;
import dev.ditspark.spark.DistributedEvaluation;
import dev.ditspark.spark.LocalSpark;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dit eval}: with {@code --ref}, the five numbers of ADM's evaluation suite (Inception Score, FID, sFID,
 * precision, recall) against a reference batch, with the FID Inception-v3 ({@link AdmEvaluation}); without it,
 * the quality of Fashion-MNIST samples as two numbers, from a small classifier the project trains (and caches) on
 * the training split: accuracy by requested class, and the Fréchet distance to the test set in its feature space.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        header = "Score samples: ImageNet (IS, FID, sFID, precision, recall) or Fashion-MNIST.",
        description = {"With --ref: ADM's evaluation of a samples .npz against a reference batch (e.g. ADM's",
            "VIRTUAL_imagenet256_labeled.npz) with the FID Inception-v3 (--inception): Inception Score, FID, sFID,",
            "precision and recall, as guided-diffusion's evaluations/evaluator.py prints them. The reference's",
            "features are cached next to it. --ref may also be a folder of real images (ImageNet layout or flat),",
            "center-cropped to the samples' size as ADM's reference batches are. See docs/evaluation.md.",
            "Example: dit eval --samples samples.npz --ref VIRTUAL_imagenet256_labeled.npz \\",
            "           --inception pt_inception-2015-12-05.safetensors --gpu 0",
            "",
            "Without --ref: score Fashion-MNIST samples (a dit sample .npz): the accuracy of a small classifier on them",
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

    /** CPU threads when --threads is not given. */
    static final int DEFAULT_THREADS = 2;

    @Option(names = "--threads", defaultValue = "" + DEFAULT_THREADS, description = "CPU threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--ref", paramLabel = "NPZ|DIR", description = "Reference for ImageNet scoring: an .npz with arr_0 "
            + "(N x H x W x 3 uint8) and, in ADM's reference batches, the precomputed mu, sigma, mu_s, sigma_s (used as "
            + "they are); or a folder of real images (DIR/<class>/<image> or flat), center-cropped to the samples' size "
            + "as ADM's reference batches are and cached next to it as DIR.ref-SIZEpx-*.npz.")
    Path ref;

    @Option(names = "--inception", paramLabel = "SAFETENSORS", description = "FID Inception-v3 weights (required with "
            + "--ref): pt_inception-2015-12-05-6726825d.pth converted by tools/convert_pt_inception.py. "
            + "'random:SEED' runs the pipeline with random weights (tests only: the scores mean nothing).")
    String inception;

    @Option(names = "--batch-size", defaultValue = "" + AdmEvaluation.ADM_BATCH,
            description = "Images per Inception forward with --ref (default: ${DEFAULT-VALUE}, as ADM).")
    int batchSize;

    @Option(names = "--gpu", description = "Run the Inception on this CUDA device (with --ref).")
    Integer gpu;

    @Option(names = "--workers", defaultValue = "1", paramLabel = "N", description = "With --ref: Spark tasks computing "
            + "the samples' Inception features, each a contiguous range of them; more than 1 runs an embedded local[N] "
            + "Spark unless --master is given (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--master", paramLabel = "URL", description = "With --ref: submit the evaluation to this Spark "
            + "master (spark://..., yarn, k8s://...) through spark-submit, client deploy mode: the driver runs here and "
            + "reads --ref, the --workers tasks run on the executors; --samples and --inception files travel with "
            + "--files.")
    String master;

    @Option(names = "--deploy-mode", defaultValue = "client", paramLabel = "MODE",
            description = "With --master: client only (the driver writes the five numbers to a file here).")
    String deployMode;

    @Mixin
    SparkSubmitOptions submitOptions;

    static final String RANDOM = DistributedEvaluation.RANDOM;

    /** The master URLs spark-submit takes (local[...] too); anything else is refused here in one line. */
    private static final java.util.regex.Pattern MASTER =
            java.util.regex.Pattern.compile("^(spark://\\S+|yarn|k8s://\\S+|local(\\[[0-9*]+(,[0-9]+)?])?)$");

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Checks.inputFile("--samples", samples);
        if (ref != null || inception != null) {
            return imagenet(pw);
        }
        if (workers != 1) {
            throw new IllegalArgumentException("--workers: with --ref only (the Fashion-MNIST scoring runs here)");
        }
        if (master != null) {
            throw new IllegalArgumentException("--master: with --ref only (the Fashion-MNIST scoring runs here)");
        }
        return fashion(samples, labels == null ? null : labels.stream().mapToLong(Long::longValue).toArray(), classifier,
                classifierSteps, threads, pw);
    }

    /**
     * Fashion-MNIST scoring of {@code samples} ({@link FashionScoring}); dit demo calls this too.
     *
     * @param labels the requested classes, or null for the file's labels array
     * @param classifier the cached classifier, or null for the default cache
     */
    static int fashion(Path samples, long[] labels, Path classifier, int classifierSteps, int threads, PrintWriter pw)
            throws IOException {
        Checks.inputFile("--samples", samples);
        Path cache = classifier != null ? classifier : FashionClassifier.cachedOrDefault(Path.of(""));
        if (!Files.exists(cache)) {
            Checks.outputFile("--classifier", cache); // it will be trained and written there: writable first
        } else {
            Checks.inputFile("--classifier", cache);
        }
        FashionScoring.score(new FashionScoring.Request(samples, labels, cache, classifierSteps, threads), pw, line -> {
            pw.println("      " + line);
            pw.flush();
        });
        return 0;
    }

    /** ADM's five numbers for {@code --samples} against {@code --ref}. */
    private int imagenet(PrintWriter pw) throws IOException {
        if (ref == null) {
            throw new IllegalArgumentException("--inception is for ImageNet scoring: give the reference batch with --ref");
        }
        boolean folder = Files.isDirectory(ref);
        if (!folder) {
            Checks.inputFile("--ref", ref);
        }
        if (inception == null) {
            throw new IllegalArgumentException("--inception: required with --ref (the FID Inception-v3 as safetensors: "
                    + "convert pt_inception-2015-12-05-6726825d.pth with tools/convert_pt_inception.py; docs/evaluation.md)");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: must be at least 1, got " + workers);
        }
        if (gpu != null && (workers > 1 || master != null)) {
            throw new IllegalArgumentException("--gpu: one worker here only; with --workers the tasks run on the CPU "
                    + "of this machine, with --master on the executors' devices");
        }
        if (master != null && !MASTER.matcher(master).matches()) {
            throw new IllegalArgumentException("--master " + master + ": not a Spark master URL (spark://HOST:PORT, "
                    + "yarn, k8s://https://HOST:PORT or local[N])");
        }
        if (!deployMode.equals("client")) {
            throw new IllegalArgumentException("--deploy-mode " + deployMode + ": dit eval submits in client mode only "
                    + "(the driver reads --ref and writes the five numbers on this machine)");
        }
        SparkSubmission.Options spark = submitOptions.with(master, deployMode);
        spark.check();
        long[] sampleShape;
        try (NpzFile npz = NpzFile.open(samples)) { // both readable image arrays before any work
            sampleShape = npz.checkImages("arr_0");
        }
        if (!folder) {
            try (NpzFile npz = NpzFile.open(ref)) {
                npz.checkImages("arr_0");
            }
        } else if (sampleShape[1] != sampleShape[2]) {
            throw new IllegalArgumentException("--ref " + ref + ": a reference folder is center-cropped to square images, "
                    + "but the samples in " + samples + " are " + sampleShape[1] + "x" + sampleShape[2]);
        }
        boolean random = inception.startsWith(RANDOM);
        long seed = 0;
        if (random) {
            try {
                seed = Long.parseLong(inception.substring(RANDOM.length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--inception " + inception + ": expected random:SEED with an integer SEED");
            }
        } else {
            Checks.inputFile("--inception", Path.of(inception));
        }
        if (master != null) {
            return submit(pw, folder, Math.toIntExact(sampleShape[1]), spark);
        }
        TorchEngine.setThreads(threads);
        long t0 = System.nanoTime();
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        if (gpu != null) {
            // Full float32 as the reference implementations: libtorch's default lets cuDNN convolutions use TF32.
            dev.ditspark.core.engine.MatmulPrecision.apply(dev.ditspark.core.engine.MatmulPrecision.FP32);
        }
        java.util.function.Consumer<String> log = line -> {
            pw.println("      " + line);
            pw.flush();
        };
        try (NDManager manager = TorchEngine.newManager(device)) {
            FidInception net = random ? FidInception.random(seed, manager) : FidInception.load(Path.of(inception), manager);
            if (random) {
                pw.println("Inception: random weights (seed " + seed + "): the pipeline runs, the scores mean nothing");
            }
            Path refNpz = ref;
            if (folder) {
                pw.printf(Locale.ROOT, "reference images: %s, center-cropped to %d px as ADM's reference batches%n", ref,
                        sampleShape[1]);
                pw.flush();
                refNpz = ReferenceFolder.prepare(ref, Math.toIntExact(sampleShape[1]), log);
            }
            pw.println("computing reference batch activations...");
            pw.flush();
            AdmEvaluation.Reference reference = AdmEvaluation.reference(refNpz, net, manager, batchSize, log);
            pw.println("computing sample batch activations...");
            pw.flush();
            InceptionFeatures features;
            if (workers > 1) {
                features = onLocalSpark(log);
            } else {
                try (NpzFile npz = NpzFile.open(samples)) {
                    features = AdmEvaluation.extract(npz, "arr_0", net, manager, batchSize, log);
                }
            }
            pw.println("Computing evaluations...");
            pw.flush();
            AdmEvaluation.Result r = AdmEvaluation.evaluate(features, reference, manager);
            print(pw, r.inceptionScore(), r.fid(), r.sfid(), r.precision(), r.recall(), r.samples(), r.references(),
                    r.referenceStatsFromFile(), t0);
        }
        return 0;
    }

    /** The five lines as guided-diffusion's evaluator prints them, then the counts. */
    private void print(PrintWriter pw, double is, double fid, double sfid, double precision, double recall, int count,
            int references, boolean statsFromFile, long t0) {
        pw.printf(Locale.ROOT, "Inception Score: %s%n", is);
        pw.printf(Locale.ROOT, "FID: %s%n", fid);
        pw.printf(Locale.ROOT, "sFID: %s%n", sfid);
        pw.printf(Locale.ROOT, "Precision: %s%n", precision);
        pw.printf(Locale.ROOT, "Recall: %s%n", recall);
        pw.printf(Locale.ROOT, "(%d samples against %d reference images; reference statistics %s) [%.1f s]%n",
                count, references, statsFromFile ? "precomputed in " + ref.getFileName()
                : "computed from its images", (System.nanoTime() - t0) / 1e9);
        pw.flush();
    }

    /**
     * --master: EvalJob submitted through spark-submit in client mode. The driver (on this machine) reads --ref (a
     * reference folder is prepared here first) and writes the five numbers to a temporary JSON file read back here;
     * --samples and a local --inception travel to the executors with --files.
     */
    private int submit(PrintWriter pw, boolean folder, int size, SparkSubmission.Options spark) throws IOException {
        long t0 = System.nanoTime();
        Path refNpz = ref;
        if (folder) {
            pw.printf(Locale.ROOT, "reference images: %s, center-cropped to %d px as ADM's reference batches%n", ref, size);
            pw.flush();
            refNpz = ReferenceFolder.prepare(ref, size, line -> {
                pw.println("      " + line);
                pw.flush();
            });
        }
        boolean random = inception.startsWith(RANDOM);
        List<Path> files = new java.util.ArrayList<>();
        files.add(samples);
        if (!random) {
            files.add(Path.of(inception));
        }
        Path result = Files.createTempFile("dit-eval-result", ".json");
        Files.delete(result); // its existence says the driver finished
        try {
            String weights = random ? inception : Path.of(inception).toAbsolutePath().toString();
            org.apache.spark.launcher.SparkAppHandle h;
            try {
                h = SparkSubmission.fromSystemProperties().launch("dit-eval", "dev.ditspark.spark.EvalJob",
                        List.of("--samples", samples.toAbsolutePath().toString(), "--ref",
                                refNpz.toAbsolutePath().toString(), "--inception", weights, "--batch-size",
                                Integer.toString(batchSize), "--workers", Integer.toString(workers), "--threads",
                                Integer.toString(threads), "--result", result.toString()),
                        files, spark, pw);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the evaluation ran on " + master, e);
            }
            if (h.getState() != org.apache.spark.launcher.SparkAppHandle.State.FINISHED || h.getError().isPresent()
                    || !Files.exists(result)) {
                String cause = h.getError().map(Throwable::getMessage).orElse("see the driver log");
                pw.println("dit: the evaluation application ended " + (h.getState()
                        == org.apache.spark.launcher.SparkAppHandle.State.FINISHED ? "FAILED" : h.getState())
                        + " on " + master + " without its five numbers: " + cause);
                pw.flush();
                return 1;
            }
            dev.ditspark.spark.EvalJob.Result r = dev.ditspark.spark.EvalJob.Result.read(result);
            if (random) {
                pw.println("Inception: random weights (" + inception + "): the pipeline runs, the scores mean nothing");
            }
            print(pw, r.inceptionScore(), r.fid(), r.sfid(), r.precision(), r.recall(), r.samples(), r.references(),
                    r.referenceStatsFromFile(), t0);
            return 0;
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** --workers N: the samples' features on the tasks of an embedded local[N] Spark in this JVM. */
    private InceptionFeatures onLocalSpark(java.util.function.Consumer<String> log) {
        String weights = inception.startsWith(RANDOM) ? inception : Path.of(inception).toAbsolutePath().toString();
        try (org.apache.spark.api.java.JavaSparkContext jsc = new org.apache.spark.api.java.JavaSparkContext(
                LocalSpark.conf("dit-eval", workers))) {
            return DistributedEvaluation.features(jsc, samples.toAbsolutePath(), weights, batchSize, workers, line -> {
                synchronized (log) {
                    log.accept(line);
                }
            });
        }
    }
}
