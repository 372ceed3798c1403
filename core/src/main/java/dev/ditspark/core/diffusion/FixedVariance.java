package dev.ditspark.core.diffusion;

/**
 * The variance of p(x_(t−1) | x_t) for a model without sigma channels (learn_sigma = false). A model with
 * them always uses the learned range between these two.
 */
public enum FixedVariance {
    /**
     * β_t (the posterior variance at step 0): the reference DiT's choice for learn_sigma = false
     * ({@code create_diffusion}'s default {@code sigma_small=False}).
     */
    LARGE,
    /** The true posterior variance β·(1 − ᾱ_prev)/(1 − ᾱ), log clipped at step 0 (sigma_small). */
    SMALL
}
