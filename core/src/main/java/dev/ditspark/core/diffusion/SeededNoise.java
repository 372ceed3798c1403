package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Standard-normal draws from a seeded Java generator, made on the host: the same seed gives the same samples
 * on any device and libtorch build.
 */
public final class SeededNoise implements NoiseSource {
    private final SplittableRandom rng;

    public SeededNoise(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    @Override
    public NDArray next(NDManager manager, Shape shape) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextGaussian();
        }
        return manager.create(values, shape);
    }
}
