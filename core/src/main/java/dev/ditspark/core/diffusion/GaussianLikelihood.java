package dev.ditspark.core.diffusion;

import static dev.ditspark.core.nn.Functional.scalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

/**
 * The two likelihood terms of the variational bound, elementwise, in nats. Every constant is a tensor on the
 * first operand's manager, filled on its device (Functional.scalar): these run under autograd in training.
 */
final class GaussianLikelihood {
    private GaussianLikelihood() {
    }

    /** Bins of width 2/255 on [−1, 1]: the half width. */
    private static final double HALF_BIN = 1.0 / 255.0;
    /** Values beyond ±0.999 are the edge bins, open to ∓∞. */
    private static final double EDGE = 0.999;
    /** Probabilities are clamped here before the log. */
    private static final double MIN_PROBABILITY = 1e-12;

    /** KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)). The first operand, {@code logvar2}, must be full-shaped. */
    static NDArray normalKl(NDArray mean1, NDArray logvar1, NDArray mean2, NDArray logvar2) {
        NDArray diff = mean1.sub(mean2);
        NDArray sum = logvar2.add(scalar(logvar2, -1.0))
                .sub(logvar1)
                .add(logvar1.sub(logvar2).exp())
                .add(diff.mul(diff).mul(logvar2.neg().exp()));
        return sum.mul(scalar(sum, 0.5));
    }

    /** Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))), the reference's approximation. */
    static NDArray approxStandardNormalCdf(NDArray x) {
        NDArray cube = x.mul(x).mul(x);
        NDArray inner = x.add(cube.mul(scalar(cube, 0.044715))).mul(scalar(x, Math.sqrt(2.0 / Math.PI)));
        NDArray onePlus = inner.tanh().add(scalar(x, 1.0));
        return onePlus.mul(scalar(x, 0.5));
    }

    /**
     * log P(x) of data x in [−1, 1] quantised to 256 levels under N(means, e^(2·logScales)): the mass of x's
     * bin of width 2/255, with the bins at −1 and 1 open to −∞ and +∞.
     */
    static NDArray discretizedGaussianLogLikelihood(NDArray x, NDArray means, NDArray logScales) {
        NDArray centered = x.sub(means);
        NDArray invStdv = logScales.neg().exp();
        NDArray cdfPlus = approxStandardNormalCdf(centered.add(scalar(centered, HALF_BIN)).mul(invStdv));
        NDArray cdfMin = approxStandardNormalCdf(centered.sub(scalar(centered, HALF_BIN)).mul(invStdv));
        NDArray logCdfPlus = clampedLog(cdfPlus);
        NDArray logOneMinusCdfMin = clampedLog(scalar(cdfMin, 1.0).sub(cdfMin));
        NDArray logCdfDelta = clampedLog(cdfPlus.sub(cdfMin));
        NDArray low = x.lt(scalar(x, -EDGE));
        NDArray high = x.gt(scalar(x, EDGE));
        return NDArrays.where(low, logCdfPlus, NDArrays.where(high, logOneMinusCdfMin, logCdfDelta));
    }

    private static NDArray clampedLog(NDArray p) {
        return p.maximum(scalar(p, MIN_PROBABILITY)).log();
    }
}
