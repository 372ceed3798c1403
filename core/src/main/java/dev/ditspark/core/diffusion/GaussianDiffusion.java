package dev.ditspark.core.diffusion;

import static dev.ditspark.core.nn.Functional.scalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.NoGrad;
import java.util.Arrays;

/**
 * ε-prediction Gaussian diffusion on a (possibly respaced) {@link NoiseSchedule} (docs/diffusion.md): the
 * forward process, the hybrid training loss, the model's reverse step (DDPM, DDIM) and the sampling loop.
 *
 * <p>Timesteps are indices of this chain, known on the host as {@code long[]}. The coefficients are the
 * float64 arrays cast to float32 and held on the device in one (T, K) table, uploaded once per device and root
 * manager ({@link DiffusionTables}); a call gathers the rows of its batch with one index tensor (one (N) int64
 * upload; none when every sample has the same step, as in sampling, where the row is a view), and every
 * coefficient is a column of that block shaped (N, 1, …, 1). Constants are filled on the device
 * ({@link dev.ditspark.core.nn.Functional#scalar}), never copied from the host. The model is always called with the ORIGINAL step
 * ({@link NoiseSchedule#timestepMap}), gathered from the same table. No DJL {@code Number} overloads are used:
 * the loss runs under autograd (see Functional).
 */
public final class GaussianDiffusion {
    private final NoiseSchedule schedule;
    private final FixedVariance fixedVariance;
    private final DiffusionTables tables;

    /** A diffusion whose fixed variance (for models without sigma channels) is the reference's LARGE. */
    public GaussianDiffusion(NoiseSchedule schedule) {
        this(schedule, FixedVariance.LARGE);
    }

    public GaussianDiffusion(NoiseSchedule schedule, FixedVariance fixedVariance) {
        this.schedule = schedule;
        this.fixedVariance = fixedVariance;
        this.tables = new DiffusionTables(schedule, fixedVariance);
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
        return qSample(x0, tables.gather(t, x0), noise);
    }

    private static NDArray qSample(NDArray x0, DiffusionTables.Rows c, NDArray noise) {
        return x0.mul(c.get(DiffusionTables.SQRT_ALPHAS_CUMPROD)).add(noise.mul(c.get(DiffusionTables.SQRT_ONE_MINUS_ALPHAS_CUMPROD)));
    }

    // ------------------------------------------------------------------ reverse step

    /**
     * p(x_(t−1) | x_t) from the model output: ε̂ in channels 0..C−1; with 2C channels, the learned range
     * log σ² = frac·log β + (1 − frac)·posterior_log_var_clipped, frac = (v + 1)/2; with C channels, the
     * {@link FixedVariance}. x̂0 = √(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε̂, not clipped.
     */
    public MeanVariance pMeanVariance(NDArray modelOutput, NDArray xT, long[] t) {
        return pMeanVariance(modelOutput, xT, tables.gather(t, xT));
    }

    private MeanVariance pMeanVariance(NDArray modelOutput, NDArray xT, DiffusionTables.Rows rows) {
        int c = channels(xT);
        boolean learned = learnedSigma(modelOutput, c);
        NDArray eps = learned ? modelOutput.get(new NDIndex(":, :{}", c)) : modelOutput;
        NDArray v = learned ? modelOutput.get(new NDIndex(":, {}:", c)) : null;
        return meanVariance(eps, v, xT, rows);
    }

    /** Ancestral step: mean + [t ≠ 0]·exp(½ log σ²)·z. */
    public NDArray ddpmStep(NDArray modelOutput, NDArray xT, long[] t, NDArray noise) {
        DiffusionTables.Rows rows = tables.gather(t, xT);
        MeanVariance p = pMeanVariance(modelOutput, xT, rows);
        NDArray sigma = p.logVariance().mul(scalar(p.logVariance(), 0.5)).exp();
        return p.mean().add(sigma.mul(rows.get(DiffusionTables.NONZERO)).mul(noise));
    }

    /**
     * DDIM step (η = 0: deterministic): ε re-derived from x̂0, x_prev = x̂0·√ᾱ_prev + √(1 − ᾱ_prev − σ²)·ε
     * + [t ≠ 0]·σ·z. The per-sample σ and square roots are computed in float32 from the float32-cast ᾱ,
     * the order of operations of the reference.
     */
    public NDArray ddimStep(NDArray modelOutput, NDArray xT, long[] t, NDArray noise, double eta) {
        DiffusionTables.Rows rows = tables.gather(t, xT);
        MeanVariance p = pMeanVariance(modelOutput, xT, rows);
        DiffusionTables.Rows ddim = tables.gatherDdim(t, xT, eta);
        NDArray eps = xT.mul(rows.get(DiffusionTables.SQRT_RECIP_ALPHAS_CUMPROD)).sub(p.predXstart())
                .div(rows.get(DiffusionTables.SQRT_RECIPM1_ALPHAS_CUMPROD));
        NDArray meanPred = p.predXstart().mul(ddim.get(DiffusionTables.DDIM_SQRT_ALPHA_PREV))
                .add(eps.mul(ddim.get(DiffusionTables.DDIM_EPS_WEIGHT)));
        return meanPred.add(noise.mul(ddim.get(DiffusionTables.DDIM_NOISE_WEIGHT)));
    }

    private MeanVariance meanVariance(NDArray eps, NDArray v, NDArray xT, DiffusionTables.Rows rows) {
        NDArray predX0 = xT.mul(rows.get(DiffusionTables.SQRT_RECIP_ALPHAS_CUMPROD))
                .sub(eps.mul(rows.get(DiffusionTables.SQRT_RECIPM1_ALPHAS_CUMPROD)));
        NDArray mean = posteriorMean(predX0, xT, rows);
        NDArray logVariance;
        if (v != null) {
            NDArray frac = v.add(scalar(v, 1.0)).mul(scalar(v, 0.5));
            NDArray minLog = rows.get(DiffusionTables.POSTERIOR_LOG_VARIANCE_CLIPPED);
            NDArray maxLog = rows.get(DiffusionTables.LOG_BETAS);
            logVariance = frac.mul(maxLog).add(scalar(frac, 1.0).sub(frac).mul(minLog));
            return new MeanVariance(mean, logVariance.exp(), logVariance, predX0, eps);
        }
        return new MeanVariance(mean, rows.get(DiffusionTables.FIXED_VARIANCE), rows.get(DiffusionTables.FIXED_LOG_VARIANCE),
                predX0, eps);
    }

    /** Mean of q(x_(t−1) | x_t, x0): coef1·x0 + coef2·x_t. */
    private static NDArray posteriorMean(NDArray x0, NDArray xT, DiffusionTables.Rows rows) {
        return x0.mul(rows.get(DiffusionTables.POSTERIOR_MEAN_COEF1)).add(xT.mul(rows.get(DiffusionTables.POSTERIOR_MEAN_COEF2)));
    }

    // ------------------------------------------------------------------ training loss

    /**
     * The hybrid loss of one batch: x_t = qSample(x0, t, noise), the model called on x_t with the original
     * steps of t, then {@link #lossTerms}. Run it under a {@link dev.ditspark.core.engine.GradientTape} to train.
     */
    public LossTerms trainingLosses(Denoiser model, NDArray x0, long[] t, NDArray y, NDArray noise) {
        DiffusionTables.Rows rows = tables.gather(t, x0); // the batch's one index upload; every gather below uses it
        NDArray xT = qSample(x0, rows, noise);
        NDArray modelOutput = model.apply(xT, rows.originalTimesteps(), y);
        return lossTerms(modelOutput, x0, xT, rows, noise);
    }

    /**
     * The hybrid loss from a given model output: mse = mean over C·H·W of (ε − ε̂)²; vb = KL(q(x_(t−1)|x_t,x0)
     * ‖ p(x_(t−1)|x_t)) / ln 2 with ε̂ detached and v live (vb trains only the variance), and at t = 0 the
     * discretized-Gaussian NLL of x0 instead; loss = mse + vb. Without sigma channels, loss = mse, vb = 0.
     */
    public LossTerms lossTerms(NDArray modelOutput, NDArray x0, NDArray xT, long[] t, NDArray noise) {
        return lossTerms(modelOutput, x0, xT, tables.gather(t, x0), noise);
    }

    private LossTerms lossTerms(NDArray modelOutput, NDArray x0, NDArray xT, DiffusionTables.Rows rows, NDArray noise) {
        int c = channels(x0);
        boolean learned = learnedSigma(modelOutput, c);
        NDArray eps = learned ? modelOutput.get(new NDIndex(":, :{}", c)) : modelOutput;
        NDArray err = eps.sub(noise);
        NDArray mse = meanPerSample(err.mul(err));
        if (!learned) {
            return new LossTerms(xT, mse, mse.zerosLike(), mse);
        }
        NDArray v = modelOutput.get(new NDIndex(":, {}:", c));
        MeanVariance p = meanVariance(eps.stopGradient(), v, xT, rows);
        NDArray trueMean = posteriorMean(x0, xT, rows);
        NDArray trueLogVariance = rows.get(DiffusionTables.POSTERIOR_LOG_VARIANCE_CLIPPED);
        NDArray invLn2 = scalar(mse, 1.0 / Math.log(2.0));
        NDArray kl = meanPerSample(GaussianLikelihood.normalKl(trueMean, trueLogVariance, p.mean(), p.logVariance()))
                .mul(invLn2);
        NDArray logScales = p.logVariance().mul(scalar(p.logVariance(), 0.5));
        NDArray nll = meanPerSample(GaussianLikelihood.discretizedGaussianLogLikelihood(x0, p.mean(), logScales))
                .neg().mul(invLn2);
        NDArray vb = NDArrays.where(rows.first(), nll, kl); // the NLL at t = 0, the KL elsewhere
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
        try (NoGrad off = NoGrad.enter()) { // grad mode is per thread in libtorch: sampling must not build graphs
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
                    NDArray out = model.apply(x, step.full(new Shape(n), original[0], DataType.INT64), y); // no copy
                    NDArray z = noise.next(step, shape);
                    NDArray next = sampler.step(this, out, x, t, z);
                    next.attach(parent);
                    x = next;
                }
                listener.onStep(done + 1, total, original[0]);
            }
            return x;
        }
    }

    // ------------------------------------------------------------------ helpers

    /** (N, …) → (N): the mean over all of a sample's elements (DJL's PyTorch mean takes one axis). */
    private static NDArray meanPerSample(NDArray x) {
        return x.reshape(new Shape(x.getShape().get(0), -1)).mean(new int[] {1});
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
