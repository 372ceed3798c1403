package dev.ditspark.launcher;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.LocalSampling;
import dev.ditspark.core.sample.SampleDirectory;
import dev.ditspark.core.sample.SampleLabels;
import dev.ditspark.core.sample.SampleModel;
import dev.ditspark.core.sample.SampleOutput;
import dev.ditspark.core.sample.SamplePlan;
import dev.ditspark.core.sample.SampleRequest;
import dev.ditspark.core.sample.SampleSelection;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.spark.DistributedSampling;
import dev.ditspark.spark.SampleJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.launcher.SparkAppHandle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dit sample}: images from a run's checkpoint (EMA weights) or from reference-named weights. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        header = "Sample images from a run's EMA weights or from reference weights, here or on Spark.",
        description = {"Sample images from a checkpoint (its EMA weights) or from reference-named safetensors weights.",
            "Writes OUT/grid.png and OUT/samples.npz (arr_0: N x H x W x 3 uint8; labels: N int64), ADM's format.",
            "Finished chunks of --batch samples are kept in OUT/chunks as it goes; rerunning the same command resumes",
            "(sample i's noise and label depend only on --seed and i, so the output is the same for any --workers).",
            "--workers N samples on an embedded local Spark, --master URL on a cluster (one GPU per task there).",
            "A model trained with class_dropout_prob 0 needs --cfg-scale 1.",
            "Example: dit sample --checkpoint runs/demo/checkpoints --per-class 8 --out runs/demo/samples",
            "Paper protocol (FID-50K): dit sample --weights DiT-XL-2-256x256.safetensors --model DiT-XL/2 --vae vae.safetensors",
            "  --num-samples 50000 --steps 250 --cfg-scale 1.5 --workers 8 --out samples50k (docs/sampling.md)"})
public final class SampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    WeightsSource source;

    @Option(names = "--model", description = "With --weights: DiT-S/2 ... DiT-XL/8.")
    String model;

    @Option(names = "--image-size", defaultValue = "256", description = "With --weights: image size (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "With --weights (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--per-class", defaultValue = "8", description = "Samples per class, classes 0..--classes-1 (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--grid-per-class", description = "Columns of the grid: the first N samples of each of the first "
            + SampleSelection.GRID_ROWS + " classes (default: --per-class, at most " + SampleSelection.GRID_COLUMNS + "); the .npz holds all samples.")
    Integer gridPerClass;

    @Option(names = "--classes", description = "How many classes to sample (default: all, at most 10).")
    Integer classes;

    @Option(names = "--labels", split = ",", description = "Explicit labels instead of --per-class, e.g. 207,360,387.")
    List<Long> labels;

    @Option(names = "--num-samples", paramLabel = "N", description = "N samples with labels drawn uniformly from all "
            + "classes (as DiT's sample_ddp.py; label i depends on --seed and i), e.g. 50000 for FID-50K.")
    Integer numSamples;

    @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--steps", description = "Respaced sampling steps, e.g. 250 or ddim50 (default: the run's sample.steps).")
    String steps;

    @Option(names = "--sampler", description = "ddpm or ddim (default: the run's sample.sampler).")
    String sampler;

    @Option(names = "--cfg-scale", description = "Classifier-free guidance scale, 1 = none (default: the run's sample.cfg_scale).")
    Double cfgScale;

    @Option(names = "--guide-all-channels", description = "Guide all latent channels, not the reference's first 3.")
    boolean guideAll;

    @Option(names = "--batch", defaultValue = "64", description = "Samples per sampling chunk, each kept in OUT/chunks until "
            + "the end so a rerun resumes; the unit of work of a worker (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", defaultValue = "samples", paramLabel = "DIR", description = "Output directory: a local "
            + "path, or hdfs://, s3a://, file:// (with --master: one all executors reach) (default: ${DEFAULT-VALUE}).")
    String out;

    @Option(names = "--vae", paramLabel = "FILE", description = "Latent models: the KL VAE (.safetensors) that decodes the "
            + "samples (latent / scaling factor → pixels), the one dit prepare encoded with.")
    Path vae;

    @Mixin
    GpuOption gpu;

    @Option(names = "--workers", defaultValue = "1", paramLabel = "N", description = "Spark tasks sampling the chunks; more "
            + "than 1 runs an embedded local[N] Spark unless --master is given (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--master", paramLabel = "URL", description = "Submit to this Spark master (spark://..., yarn, "
            + "k8s://...) through spark-submit; --weights and --vae files travel with it.")
    String master;

    @Option(names = "--deploy-mode", defaultValue = "client", paramLabel = "MODE",
            description = "With --master: client (driver here) or cluster (default: ${DEFAULT-VALUE}).")
    String deployMode;

    @Mixin
    SparkSubmitOptions submitOptions;

    @Override
    public Integer call() throws IOException, InterruptedException {
        boolean explicitPerClass = spec.commandLine().getParseResult().hasMatchedOption("--per-class");
        SampleRequest request = new SampleRequest(source.choice.checkpoint, source.step, source.raw, source.weights(),
                model, imageSize, numClasses, new SampleSelection(labels, numSamples, classes, perClass, explicitPerClass,
                        gridPerClass), seed, steps, sampler, cfgScale, guideAll, batch, out, vae);
        return sample(request, gpu.gpu, workers, submitOptions.with(master, deployMode), spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }

    /**
     * Samples {@code r}: here (one worker, {@code gpu} or the CPU), on an embedded local[workers] Spark, or submitted
     * with {@code spark}; dit demo calls this too. Every input is opened and every output made writable before the
     * first sampling step.
     *
     * @return the exit code: 0, or 1 when a submitted application failed
     * @throws IllegalArgumentException bad input, one line naming the option or file
     */
    static int sample(SampleRequest r, Integer gpu, int workers, SparkSubmission.Options spark, PrintWriter pw,
            PrintWriter err) throws IOException, InterruptedException {
        boolean uri = r.outIsUri();
        if (uri) {
            Secrets.requireNoCredentials("--out", r.out());
            if (!spark.submits()) { // with --master, the cluster's store settings may exist only there
                try {
                    SampleDirectory.of(r.out(), new Configuration()).create();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("--out " + r.out() + ": cannot create the directory ("
                            + dev.ditspark.core.errors.Failures.message(e) + ")", e);
                }
            }
        } else {
            Checks.outputDirectory("--out", Path.of(r.out()));
        }
        if (spark.submits() && !uri) {
            throw new IllegalArgumentException("--out " + r.out() + ": with --master the executors write the chunks there; "
                    + "give a directory they all reach (hdfs://..., s3a://..., file:// on a shared mount)");
        }
        if (spark.submits() && r.fromCheckpoint() && !r.checkpoint().matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
            throw new IllegalArgumentException("--checkpoint " + r.checkpoint() + ": with --master the executors "
                    + "read the weights there; give a URI they all reach (hdfs://..., s3a://..., file:// on a shared mount)");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: must be at least 1, got " + workers);
        }
        if (gpu != null && (workers > 1 || spark.submits())) {
            throw new IllegalArgumentException("--gpu: one worker here only; Spark workers take their GPUs from Spark "
                    + "(--master with spark.task.resource.gpu.amount=1)");
        }
        spark.check();
        if (r.vae() != null) {
            Checks.inputFile("--vae", r.vae());
        }
        if (!r.fromCheckpoint()) {
            Checks.inputFile("--weights", r.weights());
        }
        r.selection().check();
        if (r.batch() < 1) {
            throw new IllegalArgumentException("--batch: must be at least 1, got " + r.batch());
        }
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        try (NDManager manager = TorchEngine.newManager(device)) {
            Resolved m = r.fromCheckpoint() ? fromCheckpoint(r) : fromWeights(r);
            SampleSpec s = r.spec(m.defaults);
            DiTConfig cfg = m.config;
            SampleLabels y = r.selection().labels(cfg.numClasses(), r.seed());
            r.checkGuidance(s, cfg, m.run != null);
            AutoencoderKL ae = r.vae() == null ? null : AutoencoderKL.load(r.vae(), manager);
            SampleModel.checkDecoder(cfg, ae, r.vae());
            if (ae != null && m.run != null) {
                VaeCheck.againstTrainingData(r.vae(), ae.config(), m.run.data().uri(), err);
            }
            SamplePlan plan = r.plan(cfg, s, y, m.identity, m.checkpoint, m.step, spark.submits());
            long t0 = System.nanoTime();
            if (spark.submits()) {
                return submit(plan, r, workers, spark, pw);
            }
            if (workers > 1) {
                DistributedSampling.runLocal(plan, workers, line -> {
                    synchronized (pw) {
                        pw.println(line);
                        pw.flush();
                    }
                });
                return 0;
            }
            Configuration hadoop = new Configuration();
            SampleModel model = SampleModel.load(plan, ae, manager, hadoop);
            LocalSampling.Result done;
            try (BarProgress progress = new BarProgress(pw)) {
                done = LocalSampling.run(plan, model, hadoop, line -> {
                    pw.println(line);
                    pw.flush();
                }, progress);
            }
            pw.println(SampleOutput.summary(plan, done.resumed(), (System.nanoTime() - t0) / 1e9));
            pw.flush();
            return 0;
        }
    }

    /** One worker's progress: a bar on a terminal, else periodic lines, counting sample-steps, with samples/s. */
    private static final class BarProgress implements LocalSampling.Progress, AutoCloseable {
        private final PrintWriter pw;
        private Progress bar;

        BarProgress(PrintWriter pw) {
            this.pw = pw;
        }

        @Override
        public void start(long done, long total) {
            bar = Progress.start("sample", "sample-steps", done, total, pw);
        }

        @Override
        public void update(long done, double samplesPerSecond) {
            bar.stepTo(done, String.format(Locale.ROOT, " %.2f samples/s", samplesPerSecond));
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }

    /** --master: SampleJob submitted through spark-submit, local --weights/--vae shipped with --files. */
    private static int submit(SamplePlan plan, SampleRequest r, int workers, SparkSubmission.Options spark,
            PrintWriter pw) throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>();
        if (plan.weightsShipped()) {
            files.add(r.weights());
        }
        if (plan.vaeShipped()) {
            files.add(r.vae());
        }
        SparkAppHandle h = SparkSubmission.fromSystemProperties().launch("dit-sample", "dev.ditspark.spark.SampleJob",
                List.of("--plan-json", SampleJob.toJson(plan), "--workers", Integer.toString(workers)), files, spark, pw);
        boolean written;
        try {
            written = SampleDirectory.of(r.out(), spark.hadoop()).exists(SampleOutput.SAMPLES);
        } catch (IOException | RuntimeException e) {
            written = false;
        }
        if (h.getState() != SparkAppHandle.State.FINISHED || h.getError().isPresent() || !written) {
            String cause = h.getError().map(Throwable::getMessage).orElse("see the driver log");
            pw.println("dit: the sampling application ended " + (h.getState() == SparkAppHandle.State.FINISHED ? "FAILED"
                    : h.getState()) + " without " + r.out() + "/" + SampleOutput.SAMPLES + ": " + cause
                    + "; finished chunks stay in " + plan.chunksLocation() + ", rerun to resume");
            pw.flush();
            return 1;
        }
        pw.println(plan.count() + " samples on " + spark.master() + ": " + r.out() + "/" + SampleOutput.GRID + ", "
                + r.out() + "/" + SampleOutput.SAMPLES);
        pw.flush();
        return 0;
    }

    /** The model's source and shape, before any weight is read. */
    private record Resolved(DiTConfig config, SampleSpec defaults, RunConfig run, String identity, String checkpoint,
            long step) {
    }

    private static Resolved fromCheckpoint(SampleRequest r) {
        WeightsSource.RunCheckpoint c = WeightsSource.checkpoint(r.checkpoint(), r.step(), r.raw());
        return new Resolved(c.config().model().toDiTConfig(), c.config().sample(), c.config(),
                c.describe() + (c.raw() ? " model" : " ema"), c.store().uri().toString(), c.step());
    }

    private static Resolved fromWeights(SampleRequest r) throws IOException {
        if (r.model() == null) {
            throw new IllegalArgumentException("--weights needs --model (e.g. DiT-XL/2) and --image-size");
        }
        DiTConfig named = ModelOptions.named(r.model(), r.imageSize(), 4, r.numClasses());
        try (SafetensorsFile f = SafetensorsFile.open(r.weights())) {
            return new Resolved(ModelOptions.matchLabelTable(named, f), SampleSpec.defaults(), null,
                    SampleRequest.fileIdentity(r.weights()), null, 0);
        }
    }
}
