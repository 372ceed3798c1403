package dev.ditspark.core.sample;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.diffusion.NoiseSource;
import java.util.SplittableRandom;

/**
 * The sampler's N(0, I) draws for samples {@code first .. first + n - 1} of a request, where sample i draws
 * every value (x_T and each step's noise) from its own stream, a function of (seed, i) only. So the samples do
 * not depend on how a request is cut into chunks: a resumed run, or one with another {@code --batch}, draws the
 * same noise for sample i.
 *
 * <p>Shapes: {@code next} takes (n, …) or, for a guided batch [z; z], (2n, …); rows n..2n-1 then repeat rows
 * 0..n-1 (the guided forward reads only the first half of its batch, docs/model.md "Guided forward", so those rows never reach
 * the output and need no draws of their own).
 */
public final class PerSampleNoise implements NoiseSource {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private final SplittableRandom[] streams;

    /** Streams for samples first .. first + n - 1 of the request seeded {@code seed}. */
    public PerSampleNoise(long seed, long first, int n) {
        streams = new SplittableRandom[n];
        for (int k = 0; k < n; k++) {
            streams[k] = stream(seed, first + k);
        }
    }

    /** The stream of sample {@code index}: a SplittableRandom seeded from a well-mixed (seed, index). */
    static SplittableRandom stream(long seed, long index) {
        return new SplittableRandom(new SplittableRandom(seed + GOLDEN_GAMMA * index).nextLong());
    }

    /**
     * {@code n} class labels drawn uniformly from 0..classes-1, as DiT's sample_ddp.py draws them
     * ({@code torch.randint(0, num_classes, (n,))}, i.i.d.), but label i drawn from (seed, i) alone, on a stream
     * apart from sample i's noise, so the labels too are the same for any number of workers or chunk size.
     *
     * @throws IllegalArgumentException n < 0 or classes < 1
     */
    public static long[] uniformLabels(long seed, int n, int classes) {
        if (n < 0 || classes < 1) {
            throw new IllegalArgumentException("uniform labels: " + n + " samples of " + classes + " classes");
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            SplittableRandom base = new SplittableRandom(seed + GOLDEN_GAMMA * i);
            base.nextLong(); // the first draw seeds sample i's noise (stream); the second its label
            y[i] = new SplittableRandom(base.nextLong()).nextInt(classes); // unbiased (rejection sampling)
        }
        return y;
    }

    @Override
    public NDArray next(NDManager manager, Shape shape) {
        int n = streams.length;
        long rows = shape.get(0);
        if (rows != n && rows != 2L * n) {
            throw new IllegalArgumentException("noise for " + n + " samples asked for a batch of " + rows);
        }
        int per = Math.toIntExact(shape.size() / rows);
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int k = 0; k < n; k++) {
            SplittableRandom r = streams[k];
            for (int j = 0; j < per; j++) {
                values[k * per + j] = (float) r.nextGaussian();
            }
        }
        if (rows == 2L * n) {
            System.arraycopy(values, 0, values, n * per, n * per);
        }
        return manager.create(values, shape);
    }
}
