package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;

/**
 * The encoder's diagonal Gaussian posterior, each (N, latent, h, w): what the dataset stores, so training
 * can draw a fresh latent = (mean + std·ε)·scaling_factor every step (docs/recipe.md, "Data").
 */
public record Posterior(NDArray mean, NDArray std) {
}
