package dev.ditspark.core.diffusion;

import static dev.ditspark.core.model.Functional.scalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;

/**
 * ε-prediction Gaussian diffusion on a (possibly respaced) {@link NoiseSchedule} (DIT_SPEC.md §2): the
 * forward process, the hybrid training loss, the model's reverse step (DDPM, DDIM) and the sampling loop.
 *
 * <p>Timesteps are indices of this chain, known on the host as {@code long[]}; coefficients are gathered
 * per sample from the float64 arrays and cast to float32 tensors of shape (N, 1, …, 1) on the first
 * operand's manager. The model is always called with the ORIGINAL step ({@link NoiseSchedule#timestepMap}).
 * No DJL {@code Number} overloads are used: the loss runs under autograd (see Functional).
 */
public final class GaussianDiffusion {
    private final NoiseSchedule schedule;
    private final FixedVariance fixedVariance;
    // Host copies of the schedule's arrays (float64), gathered per sample.
    private final double[] logBetas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] fixedVarianceArray;
    private final double[] fixedLogVarianceArray;

    /** A diffusion whose fixed variance (for models without sigma channels) is the reference's LARGE. */
    public GaussianDiffusion(NoiseSchedule schedule) {
        this(schedule, FixedVariance.LARGE);
    }

    public GaussianDiffusion(NoiseSchedule schedule, FixedVariance fixedVariance) {
        this.schedule = schedule;
        this.fixedVariance = fixedVariance;
        logBetas = schedule.logBetas();
        alphasCumprod = schedule.alphasCumprod();
        alphasCumprodPrev = schedule.alphasCumprodPrev();
        sqrtAlphasCumprod = schedule.sqrtAlphasCumprod();
        sqrtOneMinusAlphasCumprod = schedule.sqrtOneMinusAlphasCumprod();
        sqrtRecipAlphasCumprod = schedule.sqrtRecipAlphasCumprod();
        sqrtRecipm1AlphasCumprod = schedule.sqrtRecipm1AlphasCumprod();
        posteriorLogVarianceClipped = schedule.posteriorLogVarianceClipped();
        posteriorMeanCoef1 = schedule.posteriorMeanCoef1();
        posteriorMeanCoef2 = schedule.posteriorMeanCoef2();
        if (fixedVariance == FixedVariance.LARGE) {
            fixedVarianceArray = schedule.fixedLargeVariance();
            fixedLogVarianceArray = schedule.fixedLargeLogVariance();
        } else {
            fixedVarianceArray = schedule.posteriorVariance();
            fixedLogVarianceArray = posteriorLogVarianceClipped;
        }
    }

    /** The full linear T = 1000 chain (training). */
    public static GaussianDiffusion linear() {
        return new GaussianDiffusion(NoiseSchedule.linear());
    }

    /** The linear T = 1000 chain respaced by {@code spacing} ("250", "ddim50", "10,10,5"; "" keeps all). */
    public static GaussianDiffusion linear(String spacing) {
        NoiseSchedule base = NoiseSchedule.linear();
        return new GaussianDiffusion(base.respace(TimestepSpacing.parse(spacing, base.numTimesteps())));
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public FixedVariance fixedVariance() {
        return fixedVariance;
    }

    /** Steps of this chain. */
    public int numTimesteps() {
        return schedule.numTimesteps();
    }

    // ------------------------------------------------------------------ forward process

    /** x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε. */
    public NDArray qSample(NDArray x0, long[] t, NDArray noise) {
        return x0.mul(gather(sqrtAlphasCumprod, t, x0)).add(noise.mul(gather(sqrtOneMinusAlphasCumprod, t, x0)));
    }

    // ------------------------------------------------------------------ reverse step

    /**
     * p(x_(t−1) | x_t) from the model output: ε̂ in channels 0..C−1; with 2C channels, the learned range
     * log σ² = frac·log β + (1 − frac)·posterior_log_var_clipped, frac = (v + 1)/2; with C channels, the
     * {@link FixedVariance}. x̂0 = √(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε̂, not clipped.
     */
    public MeanVariance pMeanVariance(NDArray modelOutput, NDArray xT, long[] t) {
        int c = channels(xT);
        boolean learned = learnedSigma(modelOutput, c);
        NDArray eps = learned ? modelOutput.get(new NDIndex(":, :{}", c)) : modelOutput;
        NDArray v = learned ? modelOutput.get(new NDIndex(":, {}:", c)) : null;
        return meanVariance(eps, v, xT, t);
    }

    /** Ancestral step: mean + [t ≠ 0]·exp(½ log σ²)·z. */
    public NDArray ddpmStep(NDArray modelOutput, NDArray xT, long[] t, NDArray noise) {
        MeanVariance p = pMeanVariance(modelOutput, xT, t);
        NDArray sigma = p.logVariance().mul(scalar(p.logVariance(), 0.5)).exp();
        return p.mean().add(sigma.mul(nonzero(t, xT)).mul(noise));
    }

    /**
     * DDIM step (η = 0: deterministic): ε re-derived from x̂0, x_prev = x̂0·√ᾱ_prev + √(1 − ᾱ_prev − σ²)·ε
     * + [t ≠ 0]·σ·z. The per-sample σ and square roots are computed in float32 from the float32-cast ᾱ,
     * the order of operations of the reference.
     */
    public NDArray ddimStep(NDArray modelOutput, NDArray xT, long[] t, NDArray noise, double eta) {
        MeanVariance p = pMeanVariance(modelOutput, xT, t);
        int n = t.length;
        float[] sqrtAbPrev = new float[n];
        float[] epsWeight = new float[n];
        float[] noiseWeight = new float[n];
        for (int i = 0; i < n; i++) {
            int k = index(t[i]);
            float ab = (float) alphasCumprod[k];
            float abPrev = (float) alphasCumprodPrev[k];
            float sigma = (float) eta * (float) Math.sqrt((1f - abPrev) / (1f - ab)) * (float) Math.sqrt(1f - ab / abPrev);
            sqrtAbPrev[i] = (float) Math.sqrt(abPrev);
            epsWeight[i] = (float) Math.sqrt(1f - abPrev - sigma * sigma);
            noiseWeight[i] = (t[i] != 0 ? 1f : 0f) * sigma;
        }
        NDArray eps = xT.mul(gather(sqrtRecipAlphasCumprod, t, xT)).sub(p.predXstart())
                .div(gather(sqrtRecipm1AlphasCumprod, t, xT));
        NDArray meanPred = p.predXstart().mul(perSample(sqrtAbPrev, xT)).add(eps.mul(perSample(epsWeight, xT)));
        return meanPred.add(noise.mul(perSample(noiseWeight, xT)));
    }

    private MeanVariance meanVariance(NDArray eps, NDArray v, NDArray xT, long[] t) {
        NDArray predX0 = xT.mul(gather(sqrtRecipAlphasCumprod, t, xT)).sub(eps.mul(gather(sqrtRecipm1AlphasCumprod, t, xT)));
        NDArray mean = posteriorMean(predX0, xT, t);
        NDArray logVariance;
        if (v != null) {
            NDArray frac = v.add(scalar(v, 1.0)).mul(scalar(v, 0.5));
            NDArray minLog = gather(posteriorLogVarianceClipped, t, xT);
            NDArray maxLog = gather(logBetas, t, xT);
            logVariance = frac.mul(maxLog).add(scalar(frac, 1.0).sub(frac).mul(minLog));
            return new MeanVariance(mean, logVariance.exp(), logVariance, predX0, eps);
        }
        return new MeanVariance(mean, gather(fixedVarianceArray, t, xT), gather(fixedLogVarianceArray, t, xT), predX0, eps);
    }

    /** Mean of q(x_(t−1) | x_t, x0): coef1·x0 + coef2·x_t. */
    private NDArray posteriorMean(NDArray x0, NDArray xT, long[] t) {
        return x0.mul(gather(posteriorMeanCoef1, t, xT)).add(xT.mul(gather(posteriorMeanCoef2, t, xT)));
    }

    // ------------------------------------------------------------------ training loss

    /**
     * The hybrid loss of one batch: x_t = qSample(x0, t, noise), the model called on x_t with the original
     * steps of t, then {@link #lossTerms}. Run it under a GradientCollector to train.
     */
    public LossTerms trainingLosses(Denoiser model, NDArray x0, long[] t, NDArray y, NDArray noise) {
        NDArray xT = qSample(x0, t, noise);
        long[] original = new long[t.length];
        for (int i = 0; i < t.length; i++) {
            original[i] = schedule.originalTimestep(index(t[i]));
        }
        NDArray modelOutput = model.apply(xT, xT.getManager().create(original), y);
        return lossTerms(modelOutput, x0, xT, t, noise);
    }

    /**
     * The hybrid loss from a given model output: mse = mean over C·H·W of (ε − ε̂)²; vb = KL(q(x_(t−1)|x_t,x0)
     * ‖ p(x_(t−1)|x_t)) / ln 2 with ε̂ detached and v live (vb trains only the variance), and at t = 0 the
     * discretized-Gaussian NLL of x0 instead; loss = mse + vb. Without sigma channels, loss = mse, vb = 0.
     */
    public LossTerms lossTerms(NDArray modelOutput, NDArray x0, NDArray xT, long[] t, NDArray noise) {
        int c = channels(x0);
        boolean learned = learnedSigma(modelOutput, c);
        NDArray eps = learned ? modelOutput.get(new NDIndex(":, :{}", c)) : modelOutput;
        NDArray err = eps.sub(noise);
        NDArray mse = meanPerSample(err.mul(err));
        if (!learned) {
            return new LossTerms(xT, mse, mse.zerosLike(), mse);
        }
        NDArray v = modelOutput.get(new NDIndex(":, {}:", c));
        MeanVariance p = meanVariance(eps.stopGradient(), v, xT, t);
        NDArray trueMean = posteriorMean(x0, xT, t);
        NDArray trueLogVariance = gather(posteriorLogVarianceClipped, t, xT);
        NDArray invLn2 = scalar(mse, 1.0 / Math.log(2.0));
        NDArray kl = meanPerSample(GaussianLikelihood.normalKl(trueMean, trueLogVariance, p.mean(), p.logVariance()))
                .mul(invLn2);
        NDArray logScales = p.logVariance().mul(scalar(p.logVariance(), 0.5));
        NDArray nll = meanPerSample(GaussianLikelihood.discretizedGaussianLogLikelihood(x0, p.mean(), logScales))
                .neg().mul(invLn2);
        boolean[] first = new boolean[t.length];
        for (int i = 0; i < t.length; i++) {
            first[i] = t[i] == 0;
        }
        NDArray vb = NDArrays.where(mse.getManager().create(first), nll, kl);
        return new LossTerms(xT, mse, vb, mse.add(vb));
    }

    // ------------------------------------------------------------------ sampling loop

    /**
     * Runs the reverse chain from x_T: steps from this chain's last index down to 0, the model called with the
     * original step, one noise draw per step (the last one included). Each step's intermediates live in a
     * sub-manager of x_T's manager and are freed with it; only the new x survives. Autograd is off while
     * sampling. The result is on x_T's manager; x_T and y are left as they were.
     *
     * @param y the labels passed to the model (may be null if the model ignores them)
     */
    public NDArray sample(Denoiser model, NDArray xT, NDArray y, Sampler sampler, NoiseSource noise,
            ProgressListener listener) {
        NDManager parent = xT.getManager();
        Shape shape = xT.getShape();
        int n = Math.toIntExact(shape.get(0));
        int total = numTimesteps();
        boolean gradMode = JniUtils.isGradMode(); // thread-local in libtorch: sampling must not build graphs
        JniUtils.setGradMode(false);
        try {
            NDArray x = xT;
            for (int done = 0; done < total; done++) {
                int i = total - 1 - done;
                long[] t = new long[n];
                long[] original = new long[n];
                Arrays.fill(t, i);
                Arrays.fill(original, schedule.originalTimestep(i));
                try (NDManager step = parent.newSubManager()) {
                    if (x == xT) {
                        x.tempAttach(step); // the caller's x_T goes back to its manager
                    } else {
                        x.attach(step); // the previous step's x dies with this step
                    }
                    if (y != null) {
                        y.tempAttach(step); // ops on y (the label embedding) stay in this step
                    }
                    NDArray out = model.apply(x, step.create(original), y);
                    NDArray z = noise.next(step, shape);
                    NDArray next = sampler.step(this, out, x, t, z);
                    next.attach(parent);
                    x = next;
                }
                listener.onStep(done + 1, total, original[0]);
            }
            return x;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    // ------------------------------------------------------------------ per-sample coefficients

    /** table[t_i] for each sample, float64 → float32, as an (N, 1, …, 1) tensor on {@code like}'s manager. */
    private NDArray gather(double[] table, long[] t, NDArray like) {
        float[] values = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            values[i] = (float) table[index(t[i])];
        }
        return perSample(values, like);
    }

    private static NDArray perSample(float[] values, NDArray like) {
        long n = like.getShape().get(0);
        if (values.length != n) {
            throw new IllegalArgumentException("got " + values.length + " timesteps for a batch of " + n);
        }
        long[] dims = new long[like.getShape().dimension()];
        Arrays.fill(dims, 1);
        dims[0] = n;
        return like.getManager().create(values, new Shape(dims));
    }

    /** (N, …) → (N): the mean over all of a sample's elements (DJL's PyTorch mean takes one axis). */
    private static NDArray meanPerSample(NDArray x) {
        return x.reshape(new Shape(x.getShape().get(0), -1)).mean(new int[] {1});
    }

    /** [t ≠ 0] per sample: no noise is added on the last step. */
    private static NDArray nonzero(long[] t, NDArray like) {
        float[] mask = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            mask[i] = t[i] != 0 ? 1f : 0f;
        }
        return perSample(mask, like);
    }

    private int index(long t) {
        if (t < 0 || t >= numTimesteps()) {
            throw new IllegalArgumentException("timestep " + t + " is outside this chain of " + numTimesteps() + " steps");
        }
        return (int) t;
    }

    private static int channels(NDArray x) {
        return Math.toIntExact(x.getShape().get(1));
    }

    private static boolean learnedSigma(NDArray modelOutput, int c) {
        long out = modelOutput.getShape().get(1);
        if (out != c && out != 2L * c) {
            throw new IllegalArgumentException("model output has " + out + " channels; expected " + c
                    + " (ε) or " + 2 * c + " (ε and variance) for " + c + " latent channels");
        }
        return out == 2L * c;
    }
}
