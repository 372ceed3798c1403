package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Where the sampler's standard-normal draws come from: one draw per step, for the whole batch, every step
 * (the last step and η = 0 DDIM included, where it is multiplied by zero), as the reference draws them.
 */
@FunctionalInterface
public interface NoiseSource {
    /** The next N(0, I) float32 tensor of {@code shape}, created on {@code manager}. */
    NDArray next(NDManager manager, Shape shape);
}
