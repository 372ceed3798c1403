package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;

/** How one reverse step goes from x_t to x_(t−1) given the model output (docs/diffusion.md, "Samplers"). */
public sealed interface Sampler permits Sampler.Ddpm, Sampler.Ddim {

    /** One step; t are indices of the diffusion's (possibly respaced) chain, known on the host. */
    NDArray step(GaussianDiffusion diffusion, NDArray modelOutput, NDArray x, long[] t, NDArray noise);

    /** Ancestral sampling, what the published FIDs use. */
    static Sampler ddpm() {
        return new Ddpm();
    }

    /** DDIM with stochasticity η (0: deterministic). */
    static Sampler ddim(double eta) {
        return new Ddim(eta);
    }

    /** x ← mean + [t ≠ 0]·exp(½ log σ²)·z. */
    record Ddpm() implements Sampler {
        @Override
        public NDArray step(GaussianDiffusion diffusion, NDArray modelOutput, NDArray x, long[] t, NDArray noise) {
            return diffusion.ddpmStep(modelOutput, x, t, noise);
        }
    }

    /** x_prev = x̂0·√ᾱ_prev + √(1 − ᾱ_prev − σ²)·ε + σ·z, σ = η·√((1−ᾱ_prev)/(1−ᾱ))·√(1 − ᾱ/ᾱ_prev). */
    record Ddim(double eta) implements Sampler {
        public Ddim {
            if (!(eta >= 0)) {
                throw new IllegalArgumentException("ddim_eta: must be ≥ 0, got " + eta);
            }
        }

        @Override
        public NDArray step(GaussianDiffusion diffusion, NDArray modelOutput, NDArray x, long[] t, NDArray noise) {
            return diffusion.ddimStep(modelOutput, x, t, noise, eta);
        }
    }
}
