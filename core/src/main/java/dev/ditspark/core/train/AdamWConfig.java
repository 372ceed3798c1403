package dev.ditspark.core.train;

/**
 * AdamW hyper-parameters, with torch.optim.AdamW's meaning and its accepted ranges (plus finiteness).
 *
 * @param lr learning rate, constant (docs/recipe.md: no warm-up, no schedule)
 * @param beta1 first-moment decay, in [0, 1)
 * @param beta2 second-moment decay, in [0, 1)
 * @param eps added to the bias-corrected root of the second moment
 * @param weightDecay decoupled weight decay: θ ← θ − lr·wd·θ before the Adam update
 */
public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay) {

    public AdamWConfig {
        requireAtLeastZero("lr", lr);
        requireInUnitInterval("beta1", beta1);
        requireInUnitInterval("beta2", beta2);
        requireAtLeastZero("eps", eps);
        requireAtLeastZero("weightDecay", weightDecay);
    }

    /** docs/recipe.md, "Optimizer and EMA": lr 1e-4 constant, betas (0.9, 0.999), eps 1e-8, weight decay 0. */
    public static AdamWConfig paperDefaults() {
        return new AdamWConfig(1e-4, 0.9, 0.999, 1e-8, 0.0);
    }

    public AdamWConfig withLr(double newLr) {
        return new AdamWConfig(newLr, beta1, beta2, eps, weightDecay);
    }

    public AdamWConfig withWeightDecay(double newWeightDecay) {
        return new AdamWConfig(lr, beta1, beta2, eps, newWeightDecay);
    }

    private static void requireAtLeastZero(String field, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("AdamWConfig." + field + " must be finite and >= 0, got " + value);
        }
    }

    private static void requireInUnitInterval(String field, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException("AdamWConfig." + field + " must be in [0, 1), got " + value);
        }
    }
}
