package dev.ditspark.core.diffusion;

import java.util.Arrays;

/**
 * A chain of betas and every array derived from it (docs/diffusion.md, "Schedule"), all in float64 on the host. The
 * tensor side only ever sees these values gathered per sample and cast to float32.
 *
 * <p>A respaced chain ({@link #respace}) keeps, for each of its steps, the original step it stands for
 * ({@link #timestepMap}): the model is always called with the original t.
 */
public final class NoiseSchedule {
    /** T of the DiT chain. */
    public static final int DEFAULT_TIMESTEPS = 1000;
    /** The linear schedule's ends (§2: linspace(1e-4, 0.02, T)). */
    public static final double BETA_START = 1e-4;
    public static final double BETA_END = 0.02;

    private final long[] timestepMap;
    private final double[] betas;
    private final double[] logBetas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] fixedLargeVariance;
    private final double[] fixedLargeLogVariance;

    private NoiseSchedule(double[] betas, long[] timestepMap) {
        int n = betas.length;
        if (n == 0 || timestepMap.length != n) {
            throw new IllegalArgumentException("a schedule needs one original step per beta, got " + n + " betas and "
                    + timestepMap.length + " steps");
        }
        for (double b : betas) {
            if (!(b > 0 && b <= 1)) {
                throw new IllegalArgumentException("betas must be in (0, 1], got " + b);
            }
        }
        this.timestepMap = timestepMap.clone();
        this.betas = betas.clone();
        logBetas = new double[n];
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        fixedLargeVariance = new double[n];
        fixedLargeLogVariance = new double[n];
        double acp = 1.0;
        for (int i = 0; i < n; i++) {
            double b = betas[i];
            alphasCumprodPrev[i] = acp;
            acp *= 1.0 - b; // sequential, as numpy's cumprod
            alphasCumprod[i] = acp;
            logBetas[i] = Math.log(b);
            sqrtAlphasCumprod[i] = Math.sqrt(acp);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - acp);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / acp);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / acp - 1);
            double prev = alphasCumprodPrev[i];
            posteriorVariance[i] = b * (1.0 - prev) / (1.0 - acp);
            posteriorMeanCoef1[i] = b * Math.sqrt(prev) / (1.0 - acp);
            posteriorMeanCoef2[i] = (1.0 - prev) * Math.sqrt(1.0 - b) / (1.0 - acp);
        }
        // The posterior variance is 0 at step 0: "clipped" takes element 1 there (§2). The same element
        // starts the reference's "fixed large" variance, which is β elsewhere.
        double first = n > 1 ? posteriorVariance[1] : posteriorVariance[0];
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = Math.log(i == 0 ? first : posteriorVariance[i]);
            fixedLargeVariance[i] = i == 0 ? first : betas[i];
            fixedLargeLogVariance[i] = Math.log(fixedLargeVariance[i]);
        }
    }

    /** The DiT chain: T = 1000 linear betas from 1e-4 to 0.02. */
    public static NoiseSchedule linear() {
        return linear(DEFAULT_TIMESTEPS);
    }

    /** β = linspace(1e-4, 0.02, T) in float64, computed as numpy does (i·step + start, last = end exactly). */
    public static NoiseSchedule linear(int numTimesteps) {
        if (numTimesteps < 2) {
            throw new IllegalArgumentException("diffusion_steps: must be at least 2, got " + numTimesteps);
        }
        double step = (BETA_END - BETA_START) / (numTimesteps - 1);
        double[] b = new double[numTimesteps];
        for (int i = 0; i < numTimesteps; i++) {
            b[i] = i * step + BETA_START;
        }
        b[numTimesteps - 1] = BETA_END;
        return fromBetas(b);
    }

    /** A chain with the given betas whose step i is original step i. */
    public static NoiseSchedule fromBetas(double[] betas) {
        long[] identity = new long[betas.length];
        Arrays.setAll(identity, i -> i);
        return new NoiseSchedule(betas, identity);
    }

    /**
     * The chain that keeps only {@code spacing}'s steps of this one: β_k = 1 − ᾱ_k / ᾱ_(previous kept k),
     * the previous starting at 1 (§2). Its timestep map points at this chain's original steps.
     */
    public NoiseSchedule respace(TimestepSpacing spacing) {
        long[] kept = spacing.keptSteps();
        double[] b = new double[kept.length];
        long[] map = new long[kept.length];
        double last = 1.0;
        for (int k = 0; k < kept.length; k++) {
            int i = Math.toIntExact(kept[k]);
            if (i >= alphasCumprod.length) {
                throw new IllegalArgumentException("kept step " + i + " is outside this chain of " + alphasCumprod.length);
            }
            b[k] = 1.0 - alphasCumprod[i] / last;
            last = alphasCumprod[i];
            map[k] = timestepMap[i];
        }
        return new NoiseSchedule(b, map);
    }

    /** The number of steps of this chain (the respaced count for a respaced chain). */
    public int numTimesteps() {
        return betas.length;
    }

    /** For each step of this chain, the original step the model is called with. */
    public long[] timestepMap() {
        return timestepMap.clone();
    }

    /** The original step of step {@code i} of this chain. */
    public long originalTimestep(int i) {
        return timestepMap[i];
    }

    public double[] betas() {
        return betas.clone();
    }

    public double[] logBetas() {
        return logBetas.clone();
    }

    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** ᾱ of the previous step, 1 before step 0. */
    public double[] alphasCumprodPrev() {
        return alphasCumprodPrev.clone();
    }

    public double[] sqrtAlphasCumprod() {
        return sqrtAlphasCumprod.clone();
    }

    public double[] sqrtOneMinusAlphasCumprod() {
        return sqrtOneMinusAlphasCumprod.clone();
    }

    /** √(1/ᾱ). */
    public double[] sqrtRecipAlphasCumprod() {
        return sqrtRecipAlphasCumprod.clone();
    }

    /** √(1/ᾱ − 1). */
    public double[] sqrtRecipm1AlphasCumprod() {
        return sqrtRecipm1AlphasCumprod.clone();
    }

    /** β·(1 − ᾱ_prev)/(1 − ᾱ): the variance of q(x_(t−1) | x_t, x0), the reference's "fixed small". */
    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    /** log of {@link #posteriorVariance} with element 0 replaced by element 1. */
    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    /** β·√ᾱ_prev/(1 − ᾱ): the posterior mean's weight on x0. */
    public double[] posteriorMeanCoef1() {
        return posteriorMeanCoef1.clone();
    }

    /** (1 − ᾱ_prev)·√α/(1 − ᾱ): the posterior mean's weight on x_t. */
    public double[] posteriorMeanCoef2() {
        return posteriorMeanCoef2.clone();
    }

    /** The reference's "fixed large" variance: posterior variance at step 0 (element 1), β elsewhere. */
    public double[] fixedLargeVariance() {
        return fixedLargeVariance.clone();
    }

    /** log of {@link #fixedLargeVariance}. */
    public double[] fixedLargeLogVariance() {
        return fixedLargeLogVariance.clone();
    }
}
