package dev.ditspark.core.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.diffusion.Sampler;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;

/**
 * Draws samples from a DiT (normally its EMA weights) as {@code dit sample}, the demo and evaluation do:
 * x_T ~ N(0, I) from the seed, the respaced DDPM or DDIM chain of {@link SampleSpec}, classifier-free
 * guidance when cfg_scale > 1. Large requests run in chunks so memory stays bounded; sample i's noise is a
 * function of (seed, i) only, so chunks can be sampled separately and a request resumed.
 */
public final class SampleGenerator {
    private final DiT model;
    private final SampleSpec spec;
    private final GaussianDiffusion diffusion;

    public SampleGenerator(DiT model, SampleSpec spec) {
        this.model = model;
        this.spec = spec;
        this.diffusion = GaussianDiffusion.linear(spec.steps());
    }

    /**
     * Samples one per label; returns (N, C, H, W) as a flat float array in the model's space (latents or
     * pixels), sampled {@code chunk} at a time. Sample i's noise depends only on (seed, i) ({@link PerSampleNoise}),
     * not on the chunk size.
     *
     * @throws IllegalArgumentException chunk < 1, or a guidance scale the model cannot use (see
     *     {@link ClassifierFreeGuidance})
     */
    public float[] generate(NDManager manager, long[] labels, long seed, int chunk, ProgressListener progress) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk: must be at least 1, got " + chunk);
        }
        DiTConfig cfg = model.config();
        int perSample = cfg.inChannels() * cfg.inputSize() * cfg.inputSize();
        float[] out = new float[labels.length * perSample];
        for (int start = 0; start < labels.length; start += chunk) {
            int n = Math.min(chunk, labels.length - start);
            int done = start;
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = sampleRange(scope, labels, start, n, seed,
                        (step, total, t) -> progress.onStep(done * total + step * n, labels.length * total, t));
                System.arraycopy(x.toFloatArray(), 0, out, start * perSample, n * perSample);
            }
        }
        return out;
    }

    /**
     * Samples {@code start .. start + n - 1} of a request for {@code labels} seeded {@code seed}: (n, C, H, W)
     * float32 on {@code manager}, the same values whichever chunks the request is cut into (for one batch size
     * the bytes are equal; another batch size may round the model's float32 sums differently).
     */
    public NDArray sampleRange(NDManager manager, long[] labels, int start, int n, long seed, ProgressListener progress) {
        DiTConfig cfg = model.config();
        Sampler sampler = spec.sampler().equals("ddim") ? Sampler.ddim(spec.eta()) : Sampler.ddpm();
        ClassifierFreeGuidance guidance = new ClassifierFreeGuidance(model, spec.cfgScale(), spec.guideAllChannels());
        long[] y = java.util.Arrays.copyOfRange(labels, start, start + n);
        PerSampleNoise noise = new PerSampleNoise(seed, start, n);
        NDArray z = noise.next(manager, new Shape(n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()));
        return guidance.sample(diffusion, z, y, sampler, noise, progress);
    }

    /** {@code perClass} labels of each class 0..classes-1, class-major (row c of a grid is class c). */
    public static long[] perClassLabels(int classes, int perClass) {
        long[] y = new long[classes * perClass];
        for (int i = 0; i < y.length; i++) {
            y[i] = i / perClass;
        }
        return y;
    }
}
