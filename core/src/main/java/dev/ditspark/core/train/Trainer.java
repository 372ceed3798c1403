package dev.ditspark.core.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.checkpoint.CheckpointException;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.checkpoint.RunDirectory;
import dev.ditspark.core.checkpoint.TrainingState;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.TrainSpec;
import dev.ditspark.core.data.DataCursor;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentStream;
import dev.ditspark.core.data.LatentSubset;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.LossTerms;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.MatmulPrecision;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The training loop of one worker (rank r of world w), the same in a unit test, in local Spark and on a
 * cluster (docs/recipe.md, "Data"): per step, each worker draws its share of the global batch (micro-batches with
 * gradient accumulation when it does not fit), computes the hybrid diffusion loss, the gradients are
 * averaged over workers, then AdamW and the EMA update. Rank 0 writes checkpoints; a run resumes exactly
 * from the newest committed one.
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Trainer.class);

    private final RunConfig config;
    private final TrainSpec spec;
    private final DiTConfig modelConfig;
    private final Collective collective;
    private final NDManager manager;
    private final DiT model;
    private final GaussianDiffusion diffusion = GaussianDiffusion.linear();
    private final CheckpointStore store;
    /** This worker's streams of the dataset, read ahead within data.memory_mb (see {@link LatentStream}). */
    private final LatentStream data;
    private final Configuration hadoopConf;
    /** Rank 0's grids and evaluations while training (sample.every, eval.every); null elsewhere or when off. */
    private final TrainingSamples samples;
    /** Rank 0's metrics.jsonl; null on other ranks (and when the run directory cannot hold it). */
    private MetricsHistory history;
    private final float scaleFactor;
    private final Shape sampleShape;
    private AdamW optimizer;
    private Ema ema;
    private LrSchedule schedule;
    private long step;
    private long epoch;
    /** Samples of each data stream taken in {@code epoch} (the data cursor, with epoch; see {@link DataCursor}). */
    private int positionInEpoch;
    private long imagesSeen;
    /** The step of the newest checkpoint this trainer wrote (or resumed from); -1: none. */
    private long lastCheckpointed = -1;
    /** Why run() stopped before train.max_steps (a signal); null when it did not. */
    private String stoppedBy;
    /** Recent normal losses (spikes left out), for the divergence watch. */
    private final double[] recentLosses = new double[LOSS_WINDOW];
    private int recentCount;
    /** The step whose loss first spiked in the current run of spikes; -1 when the last step was normal. */
    private long spikeSince = -1;
    private double spikeLoss;
    private double spikeMedian;

    /** Losses kept for the running median; a loss above SPIKE_FACTOR x that median is a spike. */
    static final int LOSS_WINDOW = 50;
    static final double SPIKE_FACTOR = 10;
    /** A loss this many times the median stops the run before its step is checkpointed. */
    static final double DIVERGED_FACTOR = 1000;

    public Trainer(RunConfig config, Collective collective, Device device, Configuration hadoopConf) {
        this.config = config;
        this.spec = config.train();
        this.modelConfig = config.model().toDiTConfig();
        this.collective = collective;
        if (spec.workers() != collective.worldSize()) {
            throw new IllegalArgumentException("train.workers: config says " + spec.workers() + " but "
                    + collective.worldSize() + " workers are running");
        }
        if (spec.threads() != null && !device.isGpu()) {
            TorchEngine.setThreads(spec.threads());
        }
        MatmulPrecision.apply(spec.precisionFor(device.isGpu())); // TF32 on GPUs unless train.precision: fp32
        try {
            LatentDataset dataset = LatentDataset.open(config.data().uri(), hadoopConf);
            checkDataFitsModel(dataset.manifest());
            this.data = LatentStream.open(dataset, spec.seed(), config.data().streamsFor(spec), collective.rank(),
                    collective.worldSize(), spec.globalBatch(), config.data().memoryBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("data.uri " + config.data().uri() + ": " + e.getMessage(), e);
        }
        DatasetManifest m = data.manifest();
        this.scaleFactor = (float) m.scaleFactor();
        this.sampleShape = new Shape(m.channels(), m.height(), m.width());
        if (data.shareSize() < data.streamBatch()) {
            throw new IllegalArgumentException("train.global_batch: each of " + data.streams() + " data streams needs "
                    + data.streamBatch() + " samples per step but holds only " + data.shareSize() + " of "
                    + config.data().uri());
        }
        this.hadoopConf = hadoopConf;
        this.store = CheckpointStore.open(config.checkpoint().uri(), hadoopConf);
        this.manager = TorchEngine.newManager(device);
        this.samples = collective.rank() == 0 ? TrainingSamples.open(config, manager, m, hadoopConf) : null;
        this.model = new DiT(modelConfig);
        initialiseOrResume();
        data.start(new DataCursor(Math.toIntExact(epoch), positionInEpoch));
        LOG.info("data: {} streams of {} rows per epoch ({} on this worker), shuffle windows of {} rows, {} row groups, "
                        + "reader budget {} MiB", data.streams(), data.shareSize(), data.localStreams(), data.windowRows(),
                data.rowGroupCount(), config.data().memoryMb());
        if (data.heapWarning() != null) {
            LOG.warn(data.heapWarning());
        }
    }

    private void checkDataFitsModel(DatasetManifest m) {
        if (m.channels() != modelConfig.inChannels() || m.height() != modelConfig.inputSize()
                || m.width() != modelConfig.inputSize()) {
            throw new IllegalArgumentException("data.uri " + config.data().uri() + ": samples are " + m.channels() + "x"
                    + m.height() + "x" + m.width() + " but the model expects " + modelConfig.inChannels() + "x"
                    + modelConfig.inputSize() + "x" + modelConfig.inputSize() + " (model.in_channels, input size)");
        }
        if (m.numClasses() > modelConfig.numClasses()) {
            throw new IllegalArgumentException("model.num_classes: the dataset has " + m.numClasses()
                    + " classes but the model only " + modelConfig.numClasses());
        }
    }

    /**
     * Fresh weights (or init_from), then every rank takes rank 0's; or everything from the newest intact
     * checkpoint (a damaged one is skipped with a warning). Starting anew where another run's checkpoints are
     * is refused (RunDirectory moves them aside first when asked).
     */
    private void initialiseOrResume() {
        List<Long> committed = store.committedSteps();
        OptionalLong latest = OptionalLong.empty();
        if (!committed.isEmpty()) {
            if (!config.checkpoint().resume()) {
                throw RunDirectory.anotherRun(store, committed);
            }
            latest = store.latestIntactStep();
            if (latest.isEmpty()) {
                throw new CheckpointException("checkpoint.uri " + store.uri() + ": every committed checkpoint ("
                        + store.describeSteps(committed) + ") is damaged (the warnings above name the files); nothing to "
                        + "resume from. Move them aside or set another checkpoint.uri");
            }
        } else {
            store.claimRun(CheckpointStore.newRunId(), false);
        }
        model.initialize(manager, new SplittableRandom(spec.seed()));
        if (latest.isEmpty() && config.checkpoint().initFrom() != null) {
            try (SafetensorsFile f = SafetensorsFile.open(Path.of(config.checkpoint().initFrom()))) {
                StateDict.load(model, f, manager);
                LOG.info("initialised from {}", config.checkpoint().initFrom());
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoint.init_from " + config.checkpoint().initFrom() + ": " + e.getMessage(), e);
            }
        }
        collective.broadcast(parameterValues(), 0);
        optimizer = new AdamW(model, new AdamWConfig(spec.lr(), spec.beta1(), spec.beta2(), spec.eps(), spec.weightDecay()));
        ema = new Ema(model, spec.emaDecay(), spec.emaWarmup());
        schedule = LrSchedule.of(spec);
        if (latest.isPresent()) {
            resume(latest.getAsLong());
        }
    }

    private void resume(long at) {
        TrainingState s = store.readState(at);
        try (SafetensorsFile w = store.openTensors(at, "model");
                SafetensorsFile e = store.openTensors(at, "ema");
                SafetensorsFile o = store.openTensors(at, "optimizer")) {
            StateDict.load(model, w, manager);
            try (NDManager tmp = manager.newSubManager()) {
                ema.load(StateDict.readAll(e, "", tmp));
                optimizer.load(StateDict.readAll(o, "", tmp), s.step());
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("checkpoint " + store.uri() + " step " + at + ": " + ex.getMessage(), ex);
        }
        step = s.step();
        imagesSeen = s.imagesSeen();
        resumeDataCursor(s);
        lastCheckpointed = step;
        String id = store.runIdOf(at);
        store.claimRun(id != null ? id : CheckpointStore.newRunId(), id == null);
        if (at != store.latestStep().orElse(at)) {
            LOG.warn("resuming from step {}, the newest intact checkpoint; the newer damaged one is kept and replaced when "
                    + "this run reaches its step", at);
        }
        LOG.info("resumed from step {} (epoch {}, sample {} of each stream's {}) at {}", step, epoch, positionInEpoch,
                data.shareSize(), store.uri());
    }

    /**
     * The data position comes back in samples (all workers together), so a changed global batch, micro-batch or
     * worker count continues where the data stopped; what changed is logged.
     */
    private void resumeDataCursor(TrainingState s) {
        long samples = s.samplesInEpochOrDerived();
        DataCursor c = DataCursor.resume(s.epoch(), samples, data.streams(), data.streamBatch(), data.shareSize());
        epoch = c.epoch();
        positionInEpoch = c.position();
        com.fasterxml.jackson.databind.JsonNode was = s.config().path("train");
        int oldBatch = was.path("global_batch").asInt(spec.globalBatch());
        String oldMicro = was.path("micro_batch").isNumber() ? was.path("micro_batch").asText() : "none";
        String newMicro = spec.microBatch() != null ? spec.microBatch().toString() : "none";
        List<String> changed = new ArrayList<>();
        if (oldBatch != spec.globalBatch()) {
            changed.add("train.global_batch " + oldBatch + " -> " + spec.globalBatch());
        }
        if (!oldMicro.equals(newMicro)) {
            changed.add("train.micro_batch " + oldMicro + " -> " + newMicro);
        }
        // The order depends on the stream count and the window (data.memory_mb per stream), not on the worker count.
        com.fasterxml.jackson.databind.JsonNode oldData = s.config().path("data");
        int oldStreams = oldData.path("streams").isNumber() ? oldData.path("streams").asInt() : s.worldSize();
        if (oldStreams != data.streams()) {
            changed.add("data streams " + oldStreams + " -> " + data.streams()
                    + " (the dataset is dealt into other streams: the order differs from an uninterrupted run)");
        }
        int oldMemory = oldData.path("memory_mb").asInt(config.data().memoryMb());
        if (oldMemory != config.data().memoryMb()) {
            changed.add("data.memory_mb " + oldMemory + " -> " + config.data().memoryMb()
                    + " (other shuffle windows: the order differs from an uninterrupted run)");
        }
        if (!changed.isEmpty()) {
            LOG.warn("resuming step {} with {}; the data continues after sample {} of epoch {} (all workers together, "
                            + "{} images seen){}", s.step(), String.join(", ", changed), samples, s.epoch(), s.imagesSeen(),
                    c.epoch() != s.epoch() ? "; too few samples left for a batch, so epoch " + c.epoch() + " begins" : "");
        }
    }

    public DiT model() {
        return model;
    }

    /** This worker's data stream (what it holds: {@link LatentStream#peakHeldBytes()}). */
    public LatentStream data() {
        return data;
    }

    public Ema ema() {
        return ema;
    }

    public long step() {
        return step;
    }

    /**
     * Why the last {@link #run} ended before train.max_steps (a {@link StopRequest}: SIGTERM, SIGINT, Spark's
     * decommission); null when it did not.
     */
    public String stoppedBy() {
        return stoppedBy;
    }

    /**
     * Trains until train.max_steps; returns the metrics of the last step (null if nothing was left to do). A
     * {@link StopRequest} ends it after the step in flight, with a checkpoint at the step reached
     * ({@link #stoppedBy()} says why).
     *
     * @throws TrainingDivergedException when the loss or a gradient is not finite, or the loss is
     *     {@value #DIVERGED_FACTOR} times its recent median; the message names the last checkpoint before the
     *     divergence began
     */
    public StepMetrics run(TrainingListener listener) {
        StopRequest.enter();
        try {
            return runSteps(listener);
        } finally {
            StopRequest.exit();
        }
    }

    private StepMetrics runSteps(TrainingListener listener) {
        listener.onStart(step, spec.maxSteps());
        LOG.info("rank {}/{} ({}): {} samples, global batch {} ({} per worker, {} micro-batches), from step {} to {}",
                collective.rank(), collective.worldSize(), collective.backend(), data.shareSize() * data.localStreams(), spec.globalBatch(),
                spec.perWorkerBatch(), spec.accumulationSteps(), step, spec.maxSteps());
        StepMetrics last = null;
        openHistory();
        LogWindow window = new LogWindow();
        while (step < spec.maxSteps()) {
            String stop = agreedStop();
            if (stop != null) {
                stoppedBy = stop;
                if (lastCheckpointed != step && step > 0) {
                    checkpoint();
                    listener.onCheckpoint(step, store.uri().toString());
                }
                LOG.warn("stopped at step {} ({}); {}", step, stop, step > 0 ? "checkpoint " + store.location(step)
                        + " holds it; run the same command to resume" : "no step was trained");
                break;
            }
            try {
                last = trainStep();
            } catch (TrainingDivergedException e) {
                throw explainDivergence(e);
            }
            watchForDivergence(step, last.loss());
            listener.onStep(last);
            window.add(last);
            long sampling = System.nanoTime();
            Map<String, Double> evaluated = samples != null ? samples.afterStep(step, ema) : Map.of();
            window.exclude(System.nanoTime() - sampling); // images/s counts training, not grids and evaluations
            if (isLogStep(step)) {
                double seconds = window.seconds();
                MetricsRecord r = new MetricsRecord(step, epoch, imagesSeen, window.loss / window.steps,
                        window.mse / window.steps, window.vb / window.steps, last.gradientNorm(), schedule.lrAt(step - 1),
                        window.steps * spec.globalBatch() / seconds, window.stepSeconds / window.steps,
                        MetricsHistory.heapUsedBytes(), MetricsHistory.residentBytes(), System.currentTimeMillis() / 1e3,
                        evaluated);
                LOG.info(String.format("step %d epoch %d loss %.4f (mse %.4f vb %.4f) %.2f steps/s %.1f images/s",
                        step, epoch, r.loss(), r.mse(), r.vb(), window.steps / seconds, r.imagesPerSecond()));
                if (collective.rank() == 0) {
                    if (history != null) {
                        history.append(r);
                    }
                    listener.onLog(r);
                }
                window = new LogWindow();
            }
            if (step % config.checkpoint().every() == 0 || step == spec.maxSteps()) {
                checkpoint();
                listener.onCheckpoint(step, store.uri().toString());
            }
        }
        return last;
    }

    /** Sums of the steps since the last logged one; metrics.jsonl gets their means. */
    private static final class LogWindow {
        private long start = System.nanoTime();
        long steps;
        double loss;
        double mse;
        double vb;
        double stepSeconds;

        void add(StepMetrics m) {
            steps++;
            loss += m.loss();
            mse += m.mse();
            vb += m.vb();
            stepSeconds += m.stepSeconds();
        }

        /** Leaves {@code nanos} (a grid, an evaluation) out of the window's time. */
        void exclude(long nanos) {
            start += nanos;
        }

        /** Wall time since the window opened (steps, checkpoints and everything between them, grids and evaluations not). */
        double seconds() {
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private boolean isLogStep(long completed) {
        return completed % spec.logEvery() == 0 || completed == spec.maxSteps()
                || TrainingSamples.evaluatesAt(config, completed); // an evaluation gets its metrics line
    }

    /** Rank 0 opens metrics.jsonl, cut back to the step this run starts from; a failure only loses the history. */
    private void openHistory() {
        if (collective.rank() != 0 || history != null) {
            return;
        }
        try {
            history = MetricsHistory.open(config.checkpoint().uri(), hadoopConf, step);
        } catch (UncheckedIOException e) {
            LOG.warn("no metrics history for this run: {}", e.getMessage());
        }
    }

    /** Rank 0, after a checkpoint committed: the charts of plots/ redrawn from the history; never stops training. */
    private void plot() {
        if (history == null || history.records().isEmpty()) {
            return;
        }
        try {
            dev.ditspark.core.plot.TrainingPlots.write(history.records(), config.checkpoint().uri(), hadoopConf);
        } catch (IOException | RuntimeException | LinkageError e) {
            LOG.warn("cannot draw the plots of step {} in {}/plots: {}", step, config.checkpoint().uri(), e.toString());
        }
    }

    /**
     * One optimizer step; returns its global-batch means (loss, mse, vb), its wall time and, on a step that is
     * logged, the L2 norm of the averaged gradients (else NaN). On a GPU the step waits for the device
     * once, at a single read-back of four numbers after the gradient allreduce: the micro-batch metrics are summed
     * on the device, every constant is made there ({@code full}, no host copy), and the finiteness check of the
     * averaged gradients is one reduction read back with the metrics.
     */
    private StepMetrics trainStep() {
        long t0 = System.nanoTime();
        // Only the orientation each sample is drawn in is decoded (TrainingBatch.draw takes the same choice).
        LatentStream.Batch drawn = data.next(TrainingBatch.mirrored(spec.seed(), step, spec.horizontalFlip()));
        if (drawn.cursor().epoch() != epoch || drawn.cursor().position() != positionInEpoch) {
            throw new IllegalStateException("data stream at " + drawn.cursor() + ", trainer at epoch " + epoch + " sample "
                    + positionInEpoch);
        }
        int micro = spec.effectiveMicroBatch();
        int accumulation = spec.accumulationSteps();
        optimizer.zeroGradients();
        try (NDManager scope = manager.newSubManager()) {
            NDArray sums = scope.zeros(new Shape(3), DataType.FLOAT32); // loss, mse, vb over the micro-batches
            NDArray accumulationSteps = scope.full(new Shape(), accumulation, DataType.FLOAT32);
            for (int a = 0; a < accumulation; a++) {
                LatentSubset.Sample[] samples = new LatentSubset.Sample[micro];
                long[] global = new long[micro];
                for (int i = 0; i < micro; i++) {
                    samples[i] = drawn.samples()[a * micro + i];
                    global[i] = drawn.globalIndices()[a * micro + i];
                }
                TrainingBatch batch = TrainingBatch.draw(samples, global, spec.seed(), step, sampleShape, scaleFactor,
                        modelConfig.nullClass(), modelConfig.classDropoutProb(), diffusion.numTimesteps(),
                        spec.horizontalFlip());
                try (NDManager ms = scope.newSubManager()) {
                    NDArray x0 = batch.x0(ms);
                    NDArray noise = batch.noise(ms);
                    NDArray y = batch.labels(ms);
                    LossTerms terms;
                    NDArray loss;
                    try (GradientTape tape = GradientTape.record()) {
                        terms = diffusion.trainingLosses(model::forward, x0, batch.timesteps(), y, noise);
                        loss = terms.loss().mean();
                        // Equal micro-batches: the per-worker mean is the mean of micro-batch means.
                        tape.backward(loss.div(accumulationSteps));
                    }
                    try (NoGrad off = NoGrad.enter()) {
                        sums.addi(NDArrays.stack(new NDList(loss.stopGradient(), terms.mse().mean().stopGradient(),
                                terms.vb().mean().stopGradient())));
                    }
                }
            }
            NDArray metrics = sums.div(accumulationSteps);
            List<NDArray> reduce = gradients(scope);
            reduce.add(metrics);
            collective.allreduceMean(reduce); // gradients and metrics in one collective call
            NDArray gradientSum = optimizer.gradientSum(scope);
            NDList readBack = new NDList(metrics, gradientSum.reshape(1));
            boolean logged = isLogStep(step + 1);
            if (logged) { // the gradient norm rides on the same read-back, only on logged steps
                NDList squares = new NDList();
                for (int i = 0; i < reduce.size() - 1; i++) {
                    squares.add(reduce.get(i).square().sum());
                }
                readBack.add(NDArrays.stack(squares).sum().sqrt().reshape(1));
            }
            // The step's one read-back: loss, mse, vb, the sum of all averaged gradients (and their norm).
            float[] m = NDArrays.concat(readBack).toFloatArray();
            // A non-finite sum means a NaN or an infinity, or (practically never) sums beyond float32's range,
            // which the exact check tells apart.
            if (!Float.isFinite(m[0]) || !Float.isFinite(m[3]) && !optimizer.allGradientsFiniteExact()) {
                throw new TrainingDivergedException(step + 1, String.format(
                        "step %d: loss is %s (mse %s, vb %s) or a gradient is not finite; stopped before applying it. "
                                + "Last committed checkpoint: %s", step + 1, m[0], m[1], m[2], lastCheckpoint()));
            }
            optimizer.step(schedule.lrAt(step));
            ema.update(step); // the 0-based index of the step just taken (the warm-up's t)
            step++;
            imagesSeen += spec.globalBatch();
            DataCursor next = drawn.next();
            epoch = next.epoch();
            positionInEpoch = next.position();
            return new StepMetrics(step, epoch, m[0], m[1], m[2], (System.nanoTime() - t0) / 1e9, spec.globalBatch(),
                    logged ? m[4] : Double.NaN);
        }
    }

    /** The gradients of trainable parameters, as wrappers closed with {@code scope}. */
    private List<NDArray> gradients(NDManager scope) {
        List<NDArray> grads = new ArrayList<>();
        for (Parameter p : model.namedParameters().values()) {
            if (p.trainable()) {
                NDArray g = p.gradient();
                g.attach(scope);
                grads.add(g);
            }
        }
        return grads;
    }

    private List<NDArray> parameterValues() {
        List<NDArray> values = new ArrayList<>();
        model.namedParameters().values().forEach(p -> values.add(p.value()));
        return values;
    }

    /**
     * The stop request of this JVM; with several workers the ranks agree (one 4-byte allreduce per step) so a
     * request that reached any of them stops all after the same step.
     */
    private String agreedStop() {
        String local = StopRequest.reason();
        if (collective.worldSize() == 1) {
            return local;
        }
        try (NDManager s = manager.newSubManager()) {
            NDArray flag = s.create(new float[] {local != null ? 1f : 0f});
            List<NDArray> one = new ArrayList<>(List.of(flag));
            collective.allreduceMean(one);
            if (flag.getFloat() > 0) {
                return local != null ? local : "another worker was asked to stop";
            }
            return null;
        }
    }

    /**
     * Tracks where a divergence begins: a loss above SPIKE_FACTOR times the median of recent normal losses starts
     * a spike (kept out of the median); one above DIVERGED_FACTOR times it stops the run before this step is
     * checkpointed. The loss of step t is that of the weights after step t-1, so a spike at t means the
     * checkpoint of step t-1 already holds diverged weights.
     */
    private void watchForDivergence(long at, double loss) {
        if (recentCount > 0) {
            double median = median();
            if (loss > SPIKE_FACTOR * median) {
                if (spikeSince < 0) {
                    spikeSince = at;
                    spikeLoss = loss;
                    spikeMedian = median;
                    LOG.warn(String.format("step %d: loss %.4g is %.0f times the recent median %.4g; training may be diverging",
                            at, loss, loss / median, median));
                }
                if (loss > DIVERGED_FACTOR * median) {
                    throw explainDivergence(new TrainingDivergedException(at, String.format(
                            "step %d: loss %.4g is %.0f times the recent median %.4g: training diverged; stopped before "
                                    + "checkpointing it.", at, loss, loss / median, median)));
                }
                return;
            }
        }
        spikeSince = -1;
        recentLosses[recentCount % LOSS_WINDOW] = loss;
        recentCount++;
    }

    private double median() {
        double[] r = Arrays.copyOf(recentLosses, Math.min(recentCount, LOSS_WINDOW));
        Arrays.sort(r);
        return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    }

    /**
     * The guard's message with the checkpoint to go back to: the newest one older than the weights that gave the
     * first bad loss (a spike, or the non-finite step itself), not merely the newest.
     */
    private TrainingDivergedException explainDivergence(TrainingDivergedException e) {
        String msg = e.getMessage();
        int cut = msg.indexOf("Last committed checkpoint");
        String head = (cut >= 0 ? msg.substring(0, cut) : msg + " ").stripTrailing();
        long onset = spikeSince >= 0 ? spikeSince : e.step();
        String began = spikeSince >= 0 ? String.format("The divergence began at step %d (loss %.4g against a recent median "
                + "of %.4g). ", spikeSince, spikeLoss, spikeMedian) : "";
        List<Long> committed = store.committedSteps();
        long good = -1;
        List<String> after = new ArrayList<>();
        for (long c : committed) {
            if (c <= onset - 2) {
                good = c;
            } else {
                after.add(CheckpointStore.directoryName(c));
            }
        }
        String advice = good < 0
                ? "No checkpoint precedes it: start again with a lower train.lr (or check the data)."
                : "The last checkpoint whose weights gave a normal loss is " + store.location(good)
                        + (after.isEmpty() ? "" : "; move the later ones (" + String.join(", ", after) + ") aside,")
                        + " lower train.lr (or check the data) and resume.";
        return new TrainingDivergedException(e.step(), head + " " + began + advice);
    }

    private String lastCheckpoint() {
        OptionalLong s = store.latestStep();
        return s.isPresent() ? store.uri() + "/" + CheckpointStore.directoryName(s.getAsLong()) : "none";
    }

    /** Rank 0 writes weights, EMA, optimizer moments and the data cursor; then old checkpoints are pruned. */
    private void checkpoint() {
        if (collective.rank() != 0) {
            lastCheckpointed = step;
            return;
        }
        TrainingState state = new TrainingState(step, epoch, positionInEpoch / data.streamBatch(), spec.seed(),
                collective.worldSize(), imagesSeen, config.toTree(), (long) positionInEpoch * data.streams());
        Map<String, NDArray> weights = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> weights.put(n, p.value()));
        Map<String, String> meta = Map.of("format", "pt", "step", Long.toString(step));
        store.save(state, Map.of(
                "model", StateDict.writer(weights, TensorDType.F32, meta),
                "ema", StateDict.writer(ema.weights(), TensorDType.F32, meta),
                "optimizer", StateDict.writer(optimizer.state(), TensorDType.F32, meta)));
        lastCheckpointed = step;
        store.prune(config.checkpoint().keepLast());
        plot();
    }

    @Override
    public void close() {
        if (samples != null) {
            samples.close();
        }
        data.close();
        optimizer.close();
        ema.close();
        manager.close();
    }
}
