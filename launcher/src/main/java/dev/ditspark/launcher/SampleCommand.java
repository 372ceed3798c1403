package dev.ditspark.launcher;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleChunks;
import dev.ditspark.core.sample.SampleDirectory;
import dev.ditspark.core.sample.SampleLabels;
import dev.ditspark.core.sample.SampleModel;
import dev.ditspark.core.sample.SampleOutput;
import dev.ditspark.core.sample.SamplePlan;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.spark.DistributedSampling;
import dev.ditspark.spark.SampleJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
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
    /** Grid rows (classes) at most. */
    static final int GRID_ROWS = 10;
    /** Grid columns at most, unless --grid-per-class asks for more. */
    static final int GRID_COLUMNS = 16;

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
            + GRID_ROWS + " classes (default: --per-class, at most " + GRID_COLUMNS + "); the .npz holds all samples.")
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

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "With --master: a Spark setting (repeatable).")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--properties-file", paramLabel = "FILE",
            description = "With --master: spark-defaults to load, e.g. conf/spark-defaults.conf on GPU clusters.")
    Path propertiesFile;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter pw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // Every input opened and every output made writable before the first sampling step.
        boolean uri = out.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*");
        if (uri) {
            Secrets.requireNoCredentials("--out", out);
            if (master == null) { // with --master, the cluster's store settings may exist only there
                try {
                    SampleDirectory.of(out, new Configuration()).create();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("--out " + out + ": cannot create the directory ("
                            + dev.ditspark.core.errors.Failures.message(e) + ")", e);
                }
            }
        } else {
            Checks.outputDirectory("--out", Path.of(out));
        }
        if (master != null && !uri) {
            throw new IllegalArgumentException("--out " + out + ": with --master the executors write the chunks there; "
                    + "give a directory they all reach (hdfs://..., s3a://..., file:// on a shared mount)");
        }
        if (master != null && source.fromCheckpoint() && !source.choice.checkpoint.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
            throw new IllegalArgumentException("--checkpoint " + source.choice.checkpoint + ": with --master the executors "
                    + "read the weights there; give a URI they all reach (hdfs://..., s3a://..., file:// on a shared mount)");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: must be at least 1, got " + workers);
        }
        if (gpu.gpu != null && (workers > 1 || master != null)) {
            throw new IllegalArgumentException("--gpu: one worker here only; Spark workers take their GPUs from Spark "
                    + "(--master with spark.task.resource.gpu.amount=1)");
        }
        if (!deployMode.equals("client") && !deployMode.equals("cluster")) {
            throw new IllegalArgumentException("--deploy-mode: client or cluster, got " + deployMode);
        }
        if (master == null && (!sparkConf.isEmpty() || propertiesFile != null)) {
            throw new IllegalArgumentException((propertiesFile != null ? "--properties-file" : "--conf")
                    + ": only with --master (the embedded Spark of --workers is set up here)");
        }
        if (vae != null) {
            Checks.inputFile("--vae", vae);
        }
        if (!source.fromCheckpoint()) {
            Checks.inputFile("--weights", source.weights());
        }
        boolean explicitPerClass = spec.commandLine().getParseResult().hasMatchedOption("--per-class");
        if (labels != null && classes != null) {
            throw new IllegalArgumentException("--labels and --classes: give one (--labels lists the classes itself)");
        }
        if (numSamples != null && (labels != null || classes != null || explicitPerClass)) {
            throw new IllegalArgumentException("--num-samples: draws uniform labels of all classes; not with "
                    + (labels != null ? "--labels" : classes != null ? "--classes" : "--per-class"));
        }
        if (numSamples != null && numSamples < 1) {
            throw new IllegalArgumentException("--num-samples: must be at least 1, got " + numSamples);
        }
        if (labels != null && labels.isEmpty()) {
            throw new IllegalArgumentException("--labels: give at least one class");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch: must be at least 1, got " + batch);
        }
        Device device = gpu.device();
        boolean here = workers == 1 && master == null;
        try (NDManager manager = TorchEngine.newManager(device)) {
            Resolved r = source.fromCheckpoint() ? fromCheckpoint() : fromWeights();
            SampleSpec s = sampleSpec(r.defaults);
            DiTConfig cfg = r.config;
            SampleLabels y = labels(cfg);
            if (s.cfgScale() != 1.0 && !cfg.hasNullClass()) {
                throw new IllegalArgumentException((cfgScale != null ? "--cfg-scale"
                        : r.run != null ? "the run's sample.cfg_scale" : "--cfg-scale (default)") + ": "
                        + ClassifierFreeGuidance.noNullClassMessage(s.cfgScale()));
            }
            if (vae == null && cfg.inChannels() != 1 && cfg.inChannels() != 3) {
                throw new IllegalArgumentException("this model samples " + cfg.inChannels()
                        + "-channel latents: give --vae FILE (the KL VAE dit prepare encoded with) to decode them");
            }
            AutoencoderKL ae = null;
            if (vae != null) {
                ae = AutoencoderKL.load(vae, manager);
                if (ae.config().latentChannels() != cfg.inChannels()) {
                    throw new IllegalArgumentException("--vae " + vae + " has " + ae.config().latentChannels()
                            + " latent channels, the model samples " + cfg.inChannels());
                }
                if (r.run != null) {
                    VaeCheck.againstTrainingData(vae, ae.config(), r.run.data().uri(), err);
                }
            }
            boolean ship = master != null;
            SamplePlan plan = new SamplePlan(r.checkpoint, r.step, source.raw,
                    source.fromCheckpoint() ? null : ship ? source.weights().getFileName().toString()
                            : source.weights().toAbsolutePath().toString(), ship && !source.fromCheckpoint(),
                    SamplePlan.Shape.of(cfg), vae == null ? null : ship ? vae.getFileName().toString()
                            : vae.toAbsolutePath().toString(), ship && vae != null,
                    s.steps(), s.sampler(), s.cfgScale(), s.guideAllChannels(), s.eta(), seed, y, batch,
                    uri ? out : Path.of(out).toAbsolutePath().normalize().toString(),
                    request(r.identity, cfg, s, y), grid(y));
            long t0 = System.nanoTime();
            if (master != null) {
                return submit(plan, pw);
            }
            if (!here) {
                return onLocalSpark(plan, pw, t0);
            }
            DiT dit = new DiT(cfg);
            try (SafetensorsFile f = r.open()) {
                StateDict.load(dit, f, manager);
            }
            return sampleHere(plan, SampleModel.of(plan, dit, ae, manager), pw, t0);
        }
    }

    /** One worker in this JVM: the chunks one after another, a progress bar counting sample-steps, with samples/s. */
    private int sampleHere(SamplePlan plan, SampleModel model, PrintWriter pw, long t0) throws IOException {
        Configuration hadoop = new Configuration();
        SampleChunks chunks = SampleChunks.open(plan.chunksLocation(), hadoop, plan.request(), line -> {
            pw.println(line);
            pw.flush();
        });
        int total = model.stepsPerSample();
        // Chunks a killed earlier run finished are reused; progress (and its time estimate) counts the rest.
        List<Integer> todo = new ArrayList<>();
        long resumedSamples = 0;
        for (int k = 0; k < plan.chunks(); k++) {
            if (chunks.has(plan.chunkStart(k), plan.chunkSize(k))) {
                resumedSamples += plan.chunkSize(k);
            } else {
                todo.add(k);
            }
        }
        int reused = plan.chunks() - todo.size();
        long resumed = resumedSamples;
        long started = System.nanoTime();
        try (Progress bar = Progress.start("sample", "sample-steps", resumed * total, (long) plan.count() * total, pw)) {
            long[] finished = {resumed};
            model.sampleMissing(chunks, todo.stream().mapToInt(Integer::intValue).toArray(), new SampleModel.ChunkProgress() {
                @Override
                public void onStep(int k, int n, int step, int steps) {
                    bar.stepTo(finished[0] * total + (long) step * n, rate(finished[0] - resumed + (double) step * n / steps));
                }

                @Override
                public void onChunk(int k, int n) {
                    finished[0] += n;
                    bar.stepTo(finished[0] * total, rate(finished[0] - resumed));
                }

                private String rate(double samples) {
                    return String.format(Locale.ROOT, " %.2f samples/s", samples / ((System.nanoTime() - started) / 1e9));
                }
            });
        }
        SampleOutput.assemble(plan, hadoop);
        pw.println(DistributedSampling.summary(plan, new DistributedSampling.Result(todo.size(), reused, List.of()),
                (System.nanoTime() - t0) / 1e9));
        pw.flush();
        return 0;
    }

    /** --workers N: the chunks as tasks of an embedded local[N] Spark in this JVM. */
    private int onLocalSpark(SamplePlan plan, PrintWriter pw, long t0) {
        // Not loading spark.* system properties: the embedded Spark is configured here alone.
        SparkConf conf = new SparkConf(false)
                .setMaster("local[" + workers + ",4]") // a failed task is retried; it skips its finished chunks
                .setAppName("dit-sample")
                .setIfMissing("spark.ui.enabled", "false");
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            DistributedSampling.Result r = DistributedSampling.run(jsc, plan, workers, line -> {
                synchronized (pw) {
                    pw.println(line);
                    pw.flush();
                }
            });
            pw.println(DistributedSampling.summary(plan, r, (System.nanoTime() - t0) / 1e9));
            pw.flush();
        }
        return 0;
    }

    /** --master: SampleJob submitted through spark-submit, local --weights/--vae shipped with --files. */
    private int submit(SamplePlan plan, PrintWriter pw) throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>();
        if (plan.weightsShipped()) {
            files.add(source.weights());
        }
        if (plan.vaeShipped()) {
            files.add(vae);
        }
        SparkAppHandle h = SparkSubmission.fromSystemProperties().launch("dit-sample", "dev.ditspark.spark.SampleJob",
                List.of("--plan-json", SampleJob.toJson(plan), "--workers", Integer.toString(workers)), files, master,
                deployMode, sparkConf, propertiesFile, pw);
        Configuration conf = new Configuration();
        sparkConf.forEach((k, v) -> {
            if (k.startsWith("spark.hadoop.")) {
                conf.set(k.substring("spark.hadoop.".length()), v);
            }
        });
        boolean written;
        try {
            written = SampleDirectory.of(out, conf).exists(SampleOutput.SAMPLES);
        } catch (IOException | RuntimeException e) {
            written = false;
        }
        if (h.getState() != SparkAppHandle.State.FINISHED || h.getError().isPresent() || !written) {
            String cause = h.getError().map(Throwable::getMessage).orElse("see the driver log");
            pw.println("dit: the sampling application ended " + (h.getState() == SparkAppHandle.State.FINISHED ? "FAILED"
                    : h.getState()) + " without " + out + "/" + SampleOutput.SAMPLES + ": " + cause
                    + "; finished chunks stay in " + plan.chunksLocation() + ", rerun to resume");
            pw.flush();
            return 1;
        }
        pw.println(plan.count() + " samples on " + master + ": " + out + "/" + SampleOutput.GRID + ", " + out + "/"
                + SampleOutput.SAMPLES);
        pw.flush();
        return 0;
    }

    /** The run's sampling settings with the options' overrides; a bad override is named by its option. */
    private SampleSpec sampleSpec(SampleSpec defaults) {
        try {
            return new SampleSpec(steps != null ? steps : defaults.steps(), sampler != null ? sampler : defaults.sampler(),
                    cfgScale != null ? cfgScale : defaults.cfgScale(), guideAll || defaults.guideAllChannels(), defaults.eta());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("sample.steps", "--steps")
                    .replace("sample.sampler", "--sampler").replace("sample.cfg_scale", "--cfg-scale"), e);
        }
    }

    /** The label of each sample: --labels, --num-samples uniform ones, or --per-class of each of the first --classes. */
    private SampleLabels labels(DiTConfig cfg) {
        if (labels != null) {
            for (long label : labels) {
                if (label < 0 || label >= cfg.numClasses()) {
                    throw new IllegalArgumentException("--labels: " + label + " is not a class of this model (0.."
                            + (cfg.numClasses() - 1) + ")");
                }
            }
            return SampleLabels.list(labels.stream().mapToLong(Long::longValue).toArray());
        }
        if (numSamples != null) {
            return SampleLabels.uniform(numSamples, cfg.numClasses(), seed);
        }
        if (classes != null && classes > cfg.numClasses()) {
            throw new IllegalArgumentException("--classes: " + classes + " classes asked, this model has "
                    + cfg.numClasses());
        }
        return SampleLabels.perClass(classes != null ? classes : Math.min(10, cfg.numClasses()), perClass);
    }

    /** grid.png: the first columns of each of the first classes; --labels: up to 10; --num-samples: the first 64. */
    private SampleOutput.Grid grid(SampleLabels y) {
        if (y.kind().equals("list")) {
            int n = Math.min(y.count(), GRID_ROWS);
            return SampleOutput.Grid.first(n, n);
        }
        if (y.kind().equals("uniform")) {
            return SampleOutput.Grid.first(Math.min(y.count(), 64), Math.min(y.count(), 8));
        }
        int columns = Math.min(perClass, gridPerClass != null ? gridPerClass : Math.min(perClass, GRID_COLUMNS));
        return SampleOutput.Grid.perClass(Math.min(y.classes(), GRID_ROWS), perClass, columns);
    }

    /**
     * What the chunks of a resumable run must agree on: weights, sampling settings, seed, labels and VAE (not
     * --batch: sample i's noise depends only on the seed and i).
     */
    private String request(String identity, DiTConfig cfg, SampleSpec s, SampleLabels y) throws IOException {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("weights", Secrets.redact(identity)); // a URI's credentials never reach a file
        r.put("model", cfg.toString());
        r.put("steps", s.steps());
        r.put("sampler", s.sampler());
        r.put("cfg_scale", s.cfgScale());
        r.put("guide_all_channels", s.guideAllChannels());
        r.put("eta", s.eta());
        r.put("seed", seed);
        long[] all = y.toArray();
        r.put("labels", java.util.Arrays.hashCode(all) + "/" + all.length);
        r.put("vae", vae == null ? null : fileIdentity(vae));
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r);
    }

    private static String fileIdentity(Path file) throws IOException {
        return file.getFileName() + " " + Files.size(file) + " bytes, modified " + Files.getLastModifiedTime(file);
    }

    /** The model's source and shape, before any weight is read. */
    private record Resolved(DiTConfig config, SampleSpec defaults, RunConfig run, String identity, String checkpoint,
            long step, WeightsSource.RunCheckpoint ckpt, Path weights) {
        SafetensorsFile open() throws IOException {
            return ckpt != null ? ckpt.open() : SafetensorsFile.open(weights);
        }
    }

    private Resolved fromCheckpoint() {
        WeightsSource.RunCheckpoint c = source.checkpoint();
        return new Resolved(c.config().model().toDiTConfig(), c.config().sample(), c.config(),
                c.describe() + (c.raw() ? " model" : " ema"), c.store().uri().toString(), c.step(), c, null);
    }

    private Resolved fromWeights() throws IOException {
        if (model == null) {
            throw new IllegalArgumentException("--weights needs --model (e.g. DiT-XL/2) and --image-size");
        }
        DiTConfig named = ModelOptions.named(model, imageSize, 4, numClasses);
        try (SafetensorsFile f = SafetensorsFile.open(source.weights())) {
            return new Resolved(ModelOptions.matchLabelTable(named, f), SampleSpec.defaults(), null,
                    fileIdentity(source.weights()), null, 0, null, source.weights());
        }
    }
}
