package dev.ditspark.core.eval;

import dev.ditspark.core.engine.LinalgOps;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;

/**
 * Mean and covariance of a set of feature vectors (ADM's FIDStatistics: {@code np.mean} and
 * {@code np.cov(rowvar=False)}, n − 1 denominator), float64, and the Fréchet distance between two of them, the
 * quantity FID (pool features) and sFID (spatial features) report:
 * ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½.
 *
 * <p>Dimensions in the thousands: the covariance runs in libtorch (float64 matmul) and so do the
 * eigen-decompositions ({@link LinalgOps}: torch.linalg.eigh/eigvalsh through TorchScript), with Apache Commons
 * Math as the fallback. tr (Σ₁Σ₂)^½ is computed as the sum of √λ over the eigenvalues of
 * the symmetric Σ₁^½ Σ₂ Σ₁^½ (similar to Σ₁Σ₂, so the same eigenvalues), negative rounding clamped to 0; ADM
 * takes scipy's {@code sqrtm} of Σ₁Σ₂ and its real part, the same number up to rounding for covariance matrices.
 *
 * @param covariance {@code dim × dim}, row-major
 */
public record FeatureStatistics(double[] mean, double[] covariance, int dim) {

    public FeatureStatistics {
        if (mean.length != dim || covariance.length != (long) dim * dim) {
            throw new IllegalArgumentException("statistics: mean has " + mean.length + " values and covariance "
                    + covariance.length + ", expected " + dim + " and " + dim + "x" + dim);
        }
    }

    /** Rows per libtorch matmul when accumulating the covariance (bounds the float64 copy to ~64 MB at 2048-d). */
    private static final int CHUNK = 4096;

    /**
     * Fits {@code count} row-major float32 vectors of length {@code dim}, computing on {@code manager}'s device.
     *
     * @throws IllegalArgumentException fewer than 2 vectors, or the array does not hold count × dim values
     */
    public static FeatureStatistics fit(float[] features, int count, int dim, NDManager manager) {
        if (count < 2) {
            throw new IllegalArgumentException("a covariance needs at least 2 feature vectors, got " + count);
        }
        if (features.length != (long) count * dim) {
            throw new IllegalArgumentException("features hold " + features.length + " values, expected " + count + " x " + dim);
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
        try (NDManager m = manager.newSubManager()) {
            NDArray mu = m.create(mean);
            NDArray acc = m.zeros(new Shape(dim, dim), DataType.FLOAT64);
            for (int start = 0; start < count; start += CHUNK) {
                int rows = Math.min(CHUNK, count - start);
                float[] part = new float[rows * dim];
                System.arraycopy(features, start * dim, part, 0, part.length);
                NDArray x = m.create(part, new Shape(rows, dim)).toType(DataType.FLOAT64, false).sub(mu);
                acc.addi(x.transpose().matMul(x));
            }
            double[] cov = acc.div(m.create((double) (count - 1))).toDoubleArray();
            symmetrise(cov, dim);
            return new FeatureStatistics(mean, cov, dim);
        }
    }

    /**
     * The Fréchet distance to {@code other} (same dimension), on {@code manager}'s device: libtorch's eigensolver
     * ({@link LinalgOps}) when available, else Apache Commons Math.
     */
    public double frechetDistance(FeatureStatistics other, NDManager manager) {
        return frechetDistance(other, manager, LinalgOps.available());
    }

    /** As {@link #frechetDistance(FeatureStatistics, NDManager)}, choosing the eigensolver (tests compare both). */
    double frechetDistance(FeatureStatistics other, NDManager manager, boolean libtorch) {
        if (other.dim != dim) {
            throw new IllegalArgumentException("Frechet distance: dimensions differ (" + dim + " vs " + other.dim + ")");
        }
        double meanTerm = 0;
        double traces = 0;
        for (int i = 0; i < dim; i++) {
            double d = mean[i] - other.mean[i];
            meanTerm += d * d;
            traces += covariance[i * dim + i] + other.covariance[i * dim + i];
        }
        double traceRoot;
        if (libtorch) {
            try (NDManager m = manager.newSubManager()) {
                traceRoot = LinalgOps.traceSqrtProduct(m.create(covariance, new Shape(dim, dim)),
                        m.create(other.covariance, new Shape(dim, dim)));
            }
        } else {
            traceRoot = traceSqrtProductCommonsMath(other, manager);
        }
        return meanTerm + traces - 2 * traceRoot;
    }

    private double traceSqrtProductCommonsMath(FeatureStatistics other, NDManager manager) {
        double[] root1 = sqrtPsd(covariance, dim, manager);
        double[] inner;
        try (NDManager m = manager.newSubManager()) {
            NDArray r = m.create(root1, new Shape(dim, dim));
            NDArray s2 = m.create(other.covariance, new Shape(dim, dim));
            inner = r.matMul(s2).matMul(r).toDoubleArray();
        }
        symmetrise(inner, dim);
        double traceRoot = 0;
        for (double lambda : eigen(inner, dim).getRealEigenvalues()) {
            traceRoot += Math.sqrt(Math.max(lambda, 0));
        }
        return traceRoot;
    }

    /** V·diag(√max(λ, 0))·Vᵀ of a symmetric positive semi-definite matrix. */
    private static double[] sqrtPsd(double[] a, int n, NDManager manager) {
        EigenDecomposition e = eigen(a, n);
        double[] values = e.getRealEigenvalues();
        double[][] v = e.getV().getData();
        double[] vs = new double[n * n];
        double[] vt = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                vs[i * n + j] = v[i][j] * Math.sqrt(Math.max(values[j], 0));
                vt[j * n + i] = v[i][j];
            }
        }
        try (NDManager m = manager.newSubManager()) {
            double[] out = m.create(vs, new Shape(n, n)).matMul(m.create(vt, new Shape(n, n))).toDoubleArray();
            symmetrise(out, n);
            return out;
        }
    }

    private static EigenDecomposition eigen(double[] a, int n) {
        double[][] rows = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n, rows[i], 0, n);
        }
        return new EigenDecomposition(new Array2DRowRealMatrix(rows, false));
    }

    /** Averages a with aᵀ in place, so rounding in the products does not reach the symmetric eigensolver. */
    private static void symmetrise(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double s = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = s;
                a[j * n + i] = s;
            }
        }
    }
}
