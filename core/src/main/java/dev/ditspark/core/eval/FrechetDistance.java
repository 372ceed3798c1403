package dev.ditspark.core.eval;

/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (FID's formula, here in a small
 * Fashion-MNIST classifier's feature space):
 * ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½).
 *
 * <p>tr((Σ₁Σ₂)^½) is computed as tr((Σ₁^½ Σ₂ Σ₁^½)^½): the two products have the same eigenvalues, and the
 * second is symmetric, so a symmetric eigensolver suffices and no complex square root appears.
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    /** Mean and covariance (n − 1 denominator, as numpy.cov) of a set of feature vectors. */
    public record Gaussian(double[] mean, double[][] covariance, int count) {

        /** Fits {@code count} row-major vectors of length {@code dim} from {@code features}. */
        public static Gaussian fit(float[] features, int count, int dim) {
            if (count < 2) {
                throw new IllegalArgumentException("a covariance needs at least 2 feature vectors, got " + count);
            }
            if (features.length != (long) count * dim) {
                throw new IllegalArgumentException("features hold " + features.length + " values, expected " + count
                        + " x " + dim);
            }
            double[] mean = new double[dim];
            for (int i = 0; i < count; i++) {
                for (int d = 0; d < dim; d++) {
                    mean[d] += features[i * dim + d];
                }
            }
            for (int d = 0; d < dim; d++) {
                mean[d] /= count;
            }
            double[][] cov = new double[dim][dim];
            double[] centred = new double[dim];
            for (int i = 0; i < count; i++) {
                for (int d = 0; d < dim; d++) {
                    centred[d] = features[i * dim + d] - mean[d];
                }
                for (int a = 0; a < dim; a++) {
                    double ca = centred[a];
                    for (int b = a; b < dim; b++) {
                        cov[a][b] += ca * centred[b];
                    }
                }
            }
            for (int a = 0; a < dim; a++) {
                for (int b = a; b < dim; b++) {
                    cov[a][b] /= count - 1;
                    cov[b][a] = cov[a][b];
                }
            }
            return new Gaussian(mean, cov, count);
        }

        public int dim() {
            return mean.length;
        }
    }

    /** The Fréchet distance between {@code a} and {@code b} (same dimension). */
    public static double between(Gaussian a, Gaussian b) {
        return between(a.mean(), a.covariance(), b.mean(), b.covariance());
    }

    public static double between(double[] mu1, double[][] sigma1, double[] mu2, double[][] sigma2) {
        int n = mu1.length;
        if (mu2.length != n || sigma1.length != n || sigma2.length != n) {
            throw new IllegalArgumentException("Fréchet distance: dimensions differ (" + mu1.length + " vs " + mu2.length
                    + ")");
        }
        double meanTerm = 0;
        double traces = 0;
        for (int i = 0; i < n; i++) {
            double d = mu1[i] - mu2[i];
            meanTerm += d * d;
            traces += sigma1[i][i] + sigma2[i][i];
        }
        double[][] root1 = SymmetricEigen.of(sigma1).sqrtPsd();
        double[][] inner = multiply(multiply(root1, sigma2), root1);
        for (int i = 0; i < n; i++) { // symmetrise away rounding before the symmetric solver
            for (int j = 0; j < i; j++) {
                double s = 0.5 * (inner[i][j] + inner[j][i]);
                inner[i][j] = s;
                inner[j][i] = s;
            }
        }
        double traceRoot = 0;
        for (double lambda : SymmetricEigen.of(inner).values()) {
            traceRoot += Math.sqrt(Math.max(lambda, 0));
        }
        return meanTerm + traces - 2 * traceRoot;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int m = b[0].length;
        int k = b.length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < k; l++) {
                double ail = a[i][l];
                for (int j = 0; j < m; j++) {
                    out[i][j] += ail * b[l][j];
                }
            }
        }
        return out;
    }
}
