package dev.ditspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.checkpoint.HadoopSource;
import dev.ditspark.core.config.EvalSpec;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.sample.SampleGenerator;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What rank 0 samples while a run trains, from the EMA weights (issue 13 item 3, issue 11 item 4):
 * <ul>
 *   <li>every {@code sample.every} steps (and at the last step) a grid, one row per class of {@code sample.grid_labels} with
 *       {@code sample.grid_per_label} samples each, into {@code RUN_DIR/samples/step-NNNNNNNNN.png} on the run
 *       directory's file system (checkpoint.uri: file://, hdfs://, s3a://);</li>
 *   <li>every {@code eval.every} steps (and at the last step) {@code eval.samples} class-balanced samples scored by a {@link SampleScorer}
 *       ({@code eval.metric}); the results go into that step's metrics.jsonl line.</li>
 * </ul>
 * Both use the run's sample.* settings (steps, sampler, guidance) and fixed noise: sample i of a grid draws from
 * (train.seed, i), of an evaluation from (train.seed + 1, i) ({@link dev.ditspark.core.sample.PerSampleNoise}), so
 * successive grids differ only by the weights, and a resumed run draws the grid of a step exactly as an
 * uninterrupted one. Latent models decode through the VAE of {@code sample.vae} (latent / the data's scale factor).
 * Sampling runs without autograd on the training device, on a copy of the EMA weights. A failure (a full disk, no
 * memory) is logged and skipped: grids and evaluations never stop training.
 */
public final class TrainingSamples implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(TrainingSamples.class);
    /** The grids' directory in the run directory. */
    public static final String DIRECTORY = "samples";
    /** Samples per forward batch (the demo's grid and evaluation each fit in one). */
    static final int BATCH = 100;
    /** Latents per VAE decoder batch (a 256² decode of 8 takes a few GB). */
    static final int DECODE_BATCH = 8;
    /** Images per Inception forward of eval.metric fid (ADM's batch). */
    static final int FID_BATCH = dev.ditspark.core.eval.AdmEvaluation.ADM_BATCH;

    private final RunConfig config;
    private final SampleSpec sample;
    private final EvalSpec eval;
    private final DiTConfig modelConfig;
    private final String runDir;
    private final Configuration hadoopConf;
    private final NDManager manager;
    private final float scaleFactor;
    private final long seed;
    private final long[] gridLabels;
    private final long[] evalLabels;
    private final AutoencoderKL vae;
    private final SampleScorer scorer;
    private final SampleGenerator generator;
    /** The sampling model; the EMA weights are copied into it before each use (its tensors are made at the first). */
    private final DiT emaModel;

    private TrainingSamples(RunConfig config, NDManager parent, DatasetManifest data, Configuration hadoopConf) {
        this.config = config;
        this.sample = config.sample();
        this.eval = config.eval();
        this.modelConfig = config.model().toDiTConfig();
        this.runDir = config.checkpoint().uri();
        this.hadoopConf = hadoopConf;
        this.scaleFactor = (float) data.scaleFactor();
        this.seed = config.train().seed();
        this.gridLabels = repeat(sample.gridLabelsFor(modelConfig.numClasses()), sample.gridPerLabel());
        this.evalLabels = balancedLabels(eval.samples(), modelConfig.numClasses());
        this.manager = parent.newSubManager();
        try {
            this.vae = sample.vae() == null ? null : openVae(sample.vae(), data, manager, hadoopConf);
            this.scorer = eval.enabled() ? scorer(config, manager) : null;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        this.emaModel = new DiT(modelConfig);
        this.generator = new SampleGenerator(emaModel, sample);
    }

    /**
     * Rank 0's sampler for a run, or null when it samples nothing while training (sample.every and eval.every 0).
     * Opens the VAE and the scorer now, before the first step, so a missing file stops the run at once.
     *
     * @param parent the trainer's manager (the training device)
     * @param data the run's dataset manifest (its scale factor, and the VAE it was encoded with)
     * @throws UncheckedIOException sample.vae or the scorer's files cannot be read (the message names the field)
     * @throws IllegalArgumentException sample.vae does not fit the data (channels, scale factor, downsampling)
     */
    public static TrainingSamples open(RunConfig config, NDManager parent, DatasetManifest data, Configuration hadoopConf) {
        if (config.sample().every() == 0 && !config.eval().enabled()) {
            return null;
        }
        return new TrainingSamples(config, parent, data, hadoopConf);
    }

    /**
     * Whether step {@code completed} is evaluated: every eval.every steps and at the run's last step, as checkpoints
     * are (every rank knows: the trainer logs a metrics line there).
     */
    public static boolean evaluatesAt(RunConfig config, long completed) {
        return due(config.eval().every(), config, completed);
    }

    /** Whether step {@code completed} gets a grid: every sample.every steps and at the run's last step. */
    public static boolean drawsGridAt(RunConfig config, long completed) {
        return due(config.sample().every(), config, completed);
    }

    private static boolean due(long every, RunConfig config, long completed) {
        return every > 0 && completed > 0 && (completed % every == 0 || completed == config.train().maxSteps());
    }

    /**
     * After optimizer step {@code step}: the grid and the evaluation due at that step, from {@code ema}'s current
     * weights. Returns the evaluation's results (empty when none ran, or when it failed: the warning says why).
     */
    public Map<String, Double> afterStep(long step, Ema ema) {
        boolean grid = drawsGridAt(config, step);
        boolean evaluate = evaluatesAt(config, step);
        if (!grid && !evaluate) {
            return Map.of();
        }
        long t0 = System.nanoTime();
        try (NoGrad off = NoGrad.enter()) {
            loadEma(ema);
            if (grid) {
                drawGrid(step);
            }
            return evaluate ? evaluate(step) : Map.of();
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("step {}: cannot sample from the EMA weights ({}); training goes on", step, e.toString());
            return Map.of();
        } finally {
            warnIfPeersMayTimeOut(step, (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * The other workers wait for rank 0 at the next allreduce, and give up after collective.timeout_seconds: a grid
     * or evaluation that takes half of that is a warning (fewer samples, fewer sampling steps, or a longer timeout).
     */
    private void warnIfPeersMayTimeOut(long step, double seconds) {
        int timeout = config.collective().timeoutSeconds();
        if (config.train().workers() > 1 && seconds > timeout / 2.0) {
            LOG.warn(String.format(Locale.ROOT, "step %d: the grid and evaluation took %.0f s while the other workers "
                    + "waited; they give up after collective.timeout_seconds %d: lower sample.grid_per_label, "
                    + "eval.samples or sample.steps, or raise the timeout", step, seconds, timeout));
        }
    }

    /** The grid of this step's EMA weights at RUN_DIR/samples/step-NNNNNNNNN.png; returns its path. */
    private Path drawGrid(long step) {
        long t0 = System.nanoTime();
        SampleImages images = sampleImages(gridLabels, seed);
        Path file = gridPath(runDir, step);
        try {
            writeAtomically(file, out -> images.writeGrid(out, sample.gridPerLabel()));
        } catch (IOException e) {
            LOG.warn("step {}: cannot write the sample grid {}: {}", step, Secrets.redact(file.toString()), e.getMessage());
            return null;
        }
        LOG.info(String.format(Locale.ROOT, "step %d: sample grid %s (%d samples, %s, cfg %.2f, %.1f s)", step,
                Secrets.redact(file.toString()), gridLabels.length,
                dev.ditspark.core.sample.SamplingSteps.describe(sample.sampler(), sample.steps()), sample.cfgScale(),
                (System.nanoTime() - t0) / 1e9));
        return file;
    }

    private Map<String, Double> evaluate(long step) {
        long t0 = System.nanoTime();
        SampleImages images = sampleImages(evalLabels, seed + 1);
        Map<String, Double> scores = new LinkedHashMap<>(scorer.score(images, evalLabels));
        StringBuilder line = new StringBuilder();
        scores.forEach((k, v) -> line.append(' ').append(k).append(' ').append(String.format(Locale.ROOT, "%.4g", v)));
        String more = scorer.describe(scores);
        LOG.info(String.format(Locale.ROOT, "step %d: eval%s%s (%s, %d samples, %.1f s)", step, line,
                more.isEmpty() ? "" : ", " + more, eval.metric(), evalLabels.length, (System.nanoTime() - t0) / 1e9));
        return scores;
    }

    /** Where the grid of {@code step} goes: {@code RUN_DIR/samples/step-NNNNNNNNN.png}. */
    public static Path gridPath(String runDir, long step) {
        return new Path(new Path(runDir, DIRECTORY), String.format("step-%09d.png", step));
    }

    /** Samples {@code labels} from the EMA copy with noise (seed, i), decoded into images. */
    private SampleImages sampleImages(long[] labels, long noiseSeed) {
        List<SampleImages> parts = new ArrayList<>();
        for (int start = 0; start < labels.length; start += BATCH) {
            int n = Math.min(BATCH, labels.length - start);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = generator.sampleRange(scope, labels, start, n, noiseSeed, ProgressListener.NONE);
                parts.add(toImages(x, n).withLabels(java.util.Arrays.copyOfRange(labels, start, start + n)));
            }
        }
        return parts.size() == 1 ? parts.get(0) : SampleImages.concat(parts);
    }

    private SampleImages toImages(NDArray x, int n) {
        if (vae == null) {
            return SampleImages.fromPixels(x.toFloatArray(), n, modelConfig.inChannels(), modelConfig.inputSize(),
                    modelConfig.inputSize());
        }
        // docs/recipe.md: the model's space is latent × scale factor; decoding divides by it.
        int size = modelConfig.inputSize() * vae.config().downsampling();
        List<SampleImages> parts = new ArrayList<>();
        for (int start = 0; start < n; start += DECODE_BATCH) {
            int k = Math.min(DECODE_BATCH, n - start);
            try (NDManager scope = manager.newSubManager()) {
                NDArray z = x.get(start + ":" + (start + k));
                z.attach(scope);
                NDArray img = vae.decode(z.div(Functional.scalar(z, scaleFactor)));
                parts.add(SampleImages.fromPixels(img.toFloatArray(), k, 3, size, size));
            }
        }
        return parts.size() == 1 ? parts.get(0) : SampleImages.concat(parts);
    }

    /** Copies the EMA weights into the sampling model (made on first use from copies of them). */
    private void loadEma(Ema ema) {
        if (emaModel.namedParameters().values().iterator().next().hasValue()) {
            ema.copyInto(emaModel);
            return;
        }
        Map<String, Parameter> params = emaModel.namedParameters();
        ema.weights().forEach((name, w) -> {
            NDArray copy = w.duplicate();
            copy.attach(manager);
            params.get(name).set(copy);
        });
    }

    /** The scorer of eval.metric (a new metric adds its case here and its name to EvalSpec.METRICS). */
    static SampleScorer scorer(RunConfig config, NDManager manager) {
        EvalSpec e = config.eval();
        switch (e.metric()) {
            case EvalSpec.FASHION:
                java.nio.file.Path classifier = e.classifier() != null ? java.nio.file.Path.of(e.classifier())
                        : dev.ditspark.core.eval.FashionClassifier.cachedOrDefault(java.nio.file.Path.of(""));
                return new FashionScorer(classifier, manager, line -> LOG.info("eval: {}", line));
            case EvalSpec.FID:
                return new FidScorer(java.nio.file.Path.of(e.reference()), e.inception(), e.randomInceptionSeed(),
                        FID_BATCH, manager, line -> LOG.info("eval: {}", line));
            default:
                throw new IllegalArgumentException("eval.metric: no scorer for " + e.metric());
        }
    }

    /**
     * The VAE of sample.vae (a path or a URI of any Hadoop FileSystem), checked against the data it must decode:
     * its latent channels, downsampling and scale factor are those of the VAE the dataset was encoded with.
     */
    static AutoencoderKL openVae(String uri, DatasetManifest data, NDManager manager, Configuration conf) {
        String shown = Secrets.redact(uri);
        if (data.isPixels()) {
            throw new IllegalArgumentException("sample.vae " + shown + ": the model is trained on pixels (the data's "
                    + "manifest has encoder '" + DatasetManifest.NO_ENCODER + "'); leave sample.vae out");
        }
        Path file = new Path(uri);
        AutoencoderKL ae;
        try {
            FileSystem fs = file.getFileSystem(conf);
            if (!fs.exists(file)) {
                String msg = "sample.vae " + shown + ": no such file";
                throw new UncheckedIOException(msg, new java.io.FileNotFoundException(msg));
            }
            try (SafetensorsFile f = SafetensorsFile.open(new HadoopSource(fs, file), shown)) {
                ae = AutoencoderKL.load(f, manager);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("sample.vae " + shown + ": " + e.getMessage(), e);
        }
        String problem = mismatch(ae.config(), data, "the data's " + DatasetManifest.FILE_NAME);
        if (problem != null) {
            throw new IllegalArgumentException("sample.vae " + shown + ": " + problem);
        }
        return ae;
    }

    /**
     * Why {@code vae} cannot decode latents of {@code data} (scale factor, channels or downsampling differ from the
     * VAE that encoded them), or null when it can; {@code manifestLocation} names the data's manifest in the message.
     * {@code dit sample --vae} checks the same.
     */
    public static String mismatch(VaeConfig vae, DatasetManifest data, String manifestLocation) {
        String trained = "the VAE the model's training data was encoded with ('" + data.encoder() + "' in "
                + manifestLocation + ")";
        if (Math.abs(vae.scalingFactor() - data.scaleFactor()) > 1e-6 * Math.abs(data.scaleFactor())) {
            return "scale factor " + vae.scalingFactor() + " differs from " + data.scaleFactor() + " of " + trained
                    + "; decode with that VAE";
        }
        if (vae.latentChannels() != data.channels()) {
            return vae.latentChannels() + " latent channels, " + trained + " has " + data.channels()
                    + "; decode with that VAE";
        }
        if (data.height() * vae.downsampling() != data.imageSize()) {
            return "downsamples by " + vae.downsampling() + ", " + trained + " turned " + data.imageSize() + " px into "
                    + data.height() + " latents; decode with that VAE";
        }
        return null;
    }

    /** Each of {@code labels} {@code times} times in a row: row r of a grid is labels[r]. */
    static long[] repeat(long[] labels, int times) {
        long[] y = new long[labels.length * times];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels[i / times];
        }
        return y;
    }

    /**
     * {@code n} labels cycling through the classes (0, 1, ..., C-1, 0, ...), so every class is sampled equally often
     * when n is a multiple of C; with n < C, n classes spread evenly.
     */
    static long[] balancedLabels(int n, int classes) {
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = n >= classes ? i % classes : (long) i * classes / n;
        }
        return y;
    }

    @FunctionalInterface
    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} under a temporary name beside it and renames it into place, so a reader sees the whole
     * grid or none (on object stores the upload at close is already all or nothing).
     */
    private void writeAtomically(Path file, Body body) throws IOException {
        FileSystem fs = file.getFileSystem(hadoopConf);
        if (fs instanceof org.apache.hadoop.fs.LocalFileSystem local) {
            fs = local.getRaw(); // no .crc files beside the grids
        }
        Path tmp = new Path(file.getParent(), "." + file.getName() + ".tmp");
        fs.mkdirs(file.getParent());
        try (OutputStream out = fs.create(tmp, true)) {
            body.write(out);
        }
        if (fs.exists(file)) {
            fs.delete(file, false); // HDFS's rename does not replace
        }
        if (!fs.rename(tmp, file)) {
            throw new IOException("rename of " + tmp + " to " + file + " failed");
        }
    }

    @Override
    public void close() {
        if (scorer != null) {
            scorer.close();
        }
        manager.close();
    }
}
