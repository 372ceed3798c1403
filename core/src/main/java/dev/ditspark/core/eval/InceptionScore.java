package dev.ditspark.core.eval;

/**
 * The Inception Score as ADM's evaluator computes it (guided-diffusion evaluations/evaluator.py, after
 * improved-gan): p(y|x) = softmax(logits) per image; the images are cut into consecutive splits of
 * {@code splitSize} (the last may be shorter); per split exp(mean over images of KL(p(y|x) ‖ p(y))) with p(y)
 * the split's mean prediction; the score is the mean over splits. ADM uses splits of 5,000 (10 for 50K samples).
 */
public final class InceptionScore {
    /** ADM's split size. */
    public static final int ADM_SPLIT = 5000;

    private InceptionScore() {
    }

    /**
     * @param logits {@code count × classes} row-major (the Inception's logits, {@link FidInception})
     * @return the score, ≥ 1 (in [1, classes])
     */
    public static double of(float[] logits, int count, int classes, int splitSize) {
        if (count < 1 || logits.length != (long) count * classes) {
            throw new IllegalArgumentException("Inception Score: " + logits.length + " logits are not " + count + " x " + classes);
        }
        if (splitSize < 1) {
            throw new IllegalArgumentException("Inception Score: split size must be positive, got " + splitSize);
        }
        double[][] p = new double[count][];
        for (int i = 0; i < count; i++) {
            p[i] = softmax(logits, i * classes, classes);
        }
        double sum = 0;
        int splits = 0;
        for (int start = 0; start < count; start += splitSize) {
            int end = Math.min(count, start + splitSize);
            double[] marginal = new double[classes];
            for (int i = start; i < end; i++) {
                for (int c = 0; c < classes; c++) {
                    marginal[c] += p[i][c];
                }
            }
            double[] logMarginal = new double[classes];
            for (int c = 0; c < classes; c++) {
                logMarginal[c] = Math.log(marginal[c] / (end - start));
            }
            double kl = 0;
            for (int i = start; i < end; i++) {
                for (int c = 0; c < classes; c++) {
                    double q = p[i][c];
                    if (q > 0) { // 0·log 0 = 0 (numpy would give NaN only for exact zeros, which softmax in float64 avoids)
                        kl += q * (Math.log(q) - logMarginal[c]);
                    }
                }
            }
            sum += Math.exp(kl / (end - start));
            splits++;
        }
        return sum / splits;
    }

    private static double[] softmax(float[] z, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, z[offset + c]);
        }
        double[] p = new double[n];
        double total = 0;
        for (int c = 0; c < n; c++) {
            p[c] = Math.exp(z[offset + c] - max);
            total += p[c];
        }
        for (int c = 0; c < n; c++) {
            p[c] /= total;
        }
        return p;
    }
}
