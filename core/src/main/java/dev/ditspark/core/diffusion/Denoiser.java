package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The network as the diffusion sees it: x_t (N, C, H, W), the ORIGINAL timesteps t (N) int64 and the labels
 * y (N) int64 → (N, 2C, H, W) (ε̂ then the variance interpolation v) or (N, C, H, W) (ε̂ only, fixed
 * variance). A DiT is {@code model::forward}; guided sampling uses {@link ClassifierFreeGuidance#denoiser()}.
 *
 * <p>Results should be computed on {@code x} first (DJL attaches them to the first operand's manager), so
 * they die with the caller's step scope.
 */
@FunctionalInterface
public interface Denoiser {
    NDArray apply(NDArray x, NDArray t, NDArray y);
}
