package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The model's p(x_(t−1) | x_t) at a step: mean and variance (the variance and log variance are (N, C, H, W)
 * for a learned variance, (N, 1, 1, 1) broadcastable for a fixed one), the predicted x0 (not clipped, as DiT
 * samples) and the predicted noise ε̂.
 */
public record MeanVariance(NDArray mean, NDArray variance, NDArray logVariance, NDArray predXstart, NDArray eps) {
}
