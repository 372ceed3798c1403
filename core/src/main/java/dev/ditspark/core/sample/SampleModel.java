package dev.ditspark.core.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;

/**
 * A {@link SamplePlan}'s DiT (and VAE) loaded on one device, sampling the plan's chunks into pixels: what a
 * {@code dit sample} worker does, in one JVM or in a Spark task. Chunk k is the same bytes wherever it is sampled
 * (same batch, noise and labels from (seed, i) alone: {@link PerSampleNoise}).
 */
public final class SampleModel {
    private final SamplePlan plan;
    private final DiT model;
    private final AutoencoderKL vae;
    private final SampleGenerator generator;
    private final NDManager manager;
    private final long[] labels;

    private SampleModel(SamplePlan plan, DiT model, AutoencoderKL vae, NDManager manager) {
        this.plan = plan;
        this.labels = plan.labels().toArray();
        this.model = model;
        this.vae = vae;
        this.manager = manager;
        this.generator = new SampleGenerator(model, plan.spec());
    }

    /**
     * Loads the plan's weights (checkpoint or file) and VAE into {@code manager}.
     *
     * @param local where a shipped file is on this machine (the identity outside Spark)
     * @throws IOException a file cannot be read; weights that do not fit the model name the keys
     *     ({@link dev.ditspark.core.weights.WeightMismatchException})
     */
    public static SampleModel load(SamplePlan plan, NDManager manager, Configuration hadoop, UnaryOperator<String> local)
            throws IOException {
        DiTConfig cfg = plan.model().config();
        DiT dit = loadDiT(plan, manager, hadoop, local);
        AutoencoderKL ae = null;
        if (plan.vae() != null) {
            ae = AutoencoderKL.load(Path.of(plan.vaeShipped() ? local.apply(plan.vae()) : plan.vae()), manager);
        }
        checkDecoder(cfg, ae, plan.vae());
        return new SampleModel(plan, dit, ae, manager);
    }

    /**
     * Refuses a model whose samples {@code vae} cannot turn into pixels: latents (not 1 or 3 channels) without a
     * VAE, or a VAE of another latent channel count.
     *
     * @param vae the loaded VAE, or null; {@code vaeName} names it in the message
     * @throws IllegalArgumentException one line naming --vae
     */
    public static void checkDecoder(DiTConfig cfg, AutoencoderKL vae, Object vaeName) {
        if (vae == null && cfg.inChannels() != 1 && cfg.inChannels() != 3) {
            throw new IllegalArgumentException("this model samples " + cfg.inChannels()
                    + "-channel latents: give --vae FILE (the KL VAE dit prepare encoded with) to decode them");
        }
        if (vae != null && vae.config().latentChannels() != cfg.inChannels()) {
            throw new IllegalArgumentException("--vae " + vaeName + " has " + vae.config().latentChannels()
                    + " latent channels, the model samples " + cfg.inChannels());
        }
    }

    /**
     * Loads the plan's DiT weights (checkpoint or unshipped file) into {@code manager}, with a VAE the caller loaded
     * and checked against the model already (or null for a pixel-space model).
     */
    public static SampleModel load(SamplePlan plan, AutoencoderKL vae, NDManager manager, Configuration hadoop)
            throws IOException {
        return new SampleModel(plan, loadDiT(plan, manager, hadoop, UnaryOperator.identity()), vae, manager);
    }

    private static DiT loadDiT(SamplePlan plan, NDManager manager, Configuration hadoop, UnaryOperator<String> local)
            throws IOException {
        DiT dit = new DiT(plan.model().config());
        if (plan.checkpoint() != null) {
            try (SafetensorsFile f = CheckpointStore.open(plan.checkpoint(), hadoop).openTensors(plan.step(),
                    plan.raw() ? "model" : "ema")) {
                StateDict.load(dit, f, manager);
            }
        } else {
            Path w = Path.of(plan.weightsShipped() ? local.apply(plan.weights()) : plan.weights());
            try (SafetensorsFile f = SafetensorsFile.open(w)) {
                StateDict.load(dit, f, manager);
            }
        }
        return dit;
    }

    /** A model already loaded (and checked) by the caller. */
    public static SampleModel of(SamplePlan plan, DiT model, AutoencoderKL vae, NDManager manager) {
        return new SampleModel(plan, model, vae, manager);
    }

    /** Respaced timesteps each sample takes (the unit of step progress). */
    public int stepsPerSample() {
        return GaussianDiffusion.linear(plan.spec().steps()).numTimesteps();
    }

    /**
     * Samples chunk k of the plan: its samples as uint8 images with their labels.
     *
     * @param progress told (step, steps, t) as the chunk's batch goes down the chain
     */
    public SampleImages sampleChunk(int k, ProgressListener progress) {
        int start = plan.chunkStart(k);
        int n = plan.chunkSize(k);
        DiTConfig cfg = model.config();
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = generator.sampleRange(scope, labels, start, n, plan.seed(), progress);
            SampleImages images;
            if (vae == null) {
                images = SampleImages.fromPixels(x.toFloatArray(), n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
            } else {
                // docs/recipe.md, "Data": decoding divides the latents by the VAE's scaling factor.
                int size = cfg.inputSize() * vae.config().downsampling();
                NDArray img = vae.decode(x.div(Functional.scalar(x, vae.config().scalingFactor())));
                images = SampleImages.fromPixels(img.toFloatArray(), n, 3, size, size);
            }
            return images.withLabels(Arrays.copyOfRange(labels, start, start + n));
        }
    }

    /** Told how a worker's chunks go. */
    public interface ChunkProgress {
        /** Step {@code step} of {@code steps} of chunk k (n samples) is done. */
        default void onStep(int k, int n, int step, int steps) {
        }

        /** Chunk k (n samples) is written. */
        default void onChunk(int k, int n) {
        }
    }

    /**
     * Samples and writes each chunk of {@code ks} that {@code chunks} does not hold yet (a retried task, or a
     * resumed request, skips the finished ones), in order.
     *
     * @return how many chunks were sampled
     * @throws IOException a chunk cannot be written
     */
    public int sampleMissing(SampleChunks chunks, int[] ks, ChunkProgress progress) throws IOException {
        int sampled = 0;
        for (int k : ks) {
            int n = plan.chunkSize(k);
            if (chunks.has(plan.chunkStart(k), n)) {
                continue;
            }
            SampleImages part = sampleChunk(k, (step, steps, t) -> progress.onStep(k, n, step, steps));
            chunks.write(plan.chunkStart(k), part);
            progress.onChunk(k, n);
            sampled++;
        }
        return sampled;
    }
}
