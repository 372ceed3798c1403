package dev.ditspark.core.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.diffusion.Sampler;
import dev.ditspark.core.diffusion.SeededNoise;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;

/**
 * Draws samples from a DiT (normally its EMA weights) as {@code dit sample}, the demo and evaluation do:
 * x_T ~ N(0, I) from the seed, the respaced DDPM or DDIM chain of {@link SampleSpec}, classifier-free
 * guidance when cfg_scale > 1. Large requests run in chunks so memory stays bounded.
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
     * pixels). Chunk k uses the noise stream seed + k, so a request is reproducible for a given chunk size.
     */
    public float[] generate(NDManager manager, long[] labels, long seed, int chunk, ProgressListener progress) {
        DiTConfig cfg = model.config();
        int perSample = cfg.inChannels() * cfg.inputSize() * cfg.inputSize();
        float[] out = new float[labels.length * perSample];
        Sampler sampler = spec.sampler().equals("ddim") ? Sampler.ddim(spec.eta()) : Sampler.ddpm();
        ClassifierFreeGuidance cfg0 = new ClassifierFreeGuidance(model, spec.cfgScale(), spec.guideAllChannels());
        for (int start = 0, k = 0; start < labels.length; start += chunk, k++) {
            int n = Math.min(chunk, labels.length - start);
            long[] y = java.util.Arrays.copyOfRange(labels, start, start + n);
            try (NDManager scope = manager.newSubManager()) {
                SeededNoise noise = new SeededNoise(seed + k);
                NDArray z = noise.next(scope, new Shape(n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()));
                int done = start;
                NDArray x = cfg0.sample(diffusion, z, y, sampler, noise,
                        (step, total, t) -> progress.onStep(done * total + step * n, labels.length * total, t));
                System.arraycopy(x.toFloatArray(), 0, out, start * perSample, n * perSample);
            }
        }
        return out;
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
