package dev.ditspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.data.LatentSubset;
import java.util.SplittableRandom;
import java.util.function.LongPredicate;

/**
 * One micro-batch ready for the diffusion loss, drawn per sample (see {@link SampleRandomness}) in this order:
 * the flip (horizontal flip is the only augmentation), the label drop (classifier-free guidance dropout), the
 * timestep (uniform in 0..T-1), the posterior sample ε (latent = (mean + std·ε)·scale_factor, a fresh VAE
 * posterior sample every step), the diffusion noise. The flip is drawn even when flipping is off, so the other
 * draws do not depend on that setting.
 */
public record TrainingBatch(float[] x0, long[] labels, long[] timesteps, float[] noise, int size, Shape sampleShape) {

    /**
     * Whether {@link #draw} at {@code step} takes the sample with a given global index mirrored: the first value of
     * its per-sample generator ({@link SampleRandomness#forSample}), as {@code draw} consumes it. Lets the data
     * stream decode only the arrays the step uses ({@link dev.ditspark.core.data.LatentStream#next(LongPredicate)}).
     */
    public static LongPredicate mirrored(long seed, long step, boolean horizontalFlip) {
        if (!horizontalFlip) {
            return globalIndex -> false;
        }
        return globalIndex -> SampleRandomness.forSample(seed, step, globalIndex).nextBoolean();
    }

    /**
     * Draws the batch for {@code samples} (with their global dataset indices) at optimizer step {@code step};
     * {@code horizontalFlip} false always takes each sample's own view, never its mirror (train.horizontal_flip).
     */
    public static TrainingBatch draw(LatentSubset.Sample[] samples, long[] globalIndices, long seed, long step,
            Shape sampleShape, float scaleFactor, int nullClass, double dropProb, int numTimesteps,
            boolean horizontalFlip) {
        int n = samples.length;
        int e = Math.toIntExact(sampleShape.size());
        float[] x0 = new float[n * e];
        float[] noise = new float[n * e];
        long[] labels = new long[n];
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            SplittableRandom rng = SampleRandomness.forSample(seed, step, globalIndices[i]);
            boolean flip = rng.nextBoolean() && horizontalFlip; // mirrored(...) reads the same first value
            labels[i] = rng.nextDouble() < dropProb ? nullClass : samples[i].label();
            t[i] = rng.nextInt(numTimesteps);
            float[] mean = samples[i].mean(flip);
            float[] std = samples[i].std(flip);
            int base = i * e;
            for (int k = 0; k < e; k++) {
                x0[base + k] = (mean[k] + std[k] * (float) rng.nextGaussian()) * scaleFactor;
            }
            for (int k = 0; k < e; k++) {
                noise[base + k] = (float) rng.nextGaussian();
            }
        }
        return new TrainingBatch(x0, labels, t, noise, n, sampleShape);
    }

    public Shape batchShape() {
        long[] dims = new long[sampleShape.dimension() + 1];
        dims[0] = size;
        System.arraycopy(sampleShape.getShape(), 0, dims, 1, sampleShape.dimension());
        return new Shape(dims);
    }

    public NDArray x0(NDManager m) {
        return m.create(x0, batchShape());
    }

    public NDArray noise(NDManager m) {
        return m.create(noise, batchShape());
    }

    public NDArray labels(NDManager m) {
        return m.create(labels);
    }
}
