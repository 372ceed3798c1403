package dev.ditspark.core.eval;

/**
 * Eigenvalues and eigenvectors of a real symmetric matrix by cyclic Jacobi rotations, in double precision.
 * Small and exact enough for the feature covariances of the Fréchet distance (64×64 here): each rotation
 * zeroes one off-diagonal pair, and sweeps repeat until the off-diagonal mass is negligible.
 *
 * @param values eigenvalues, ascending
 * @param vectors column j of this row-major n×n matrix is the unit eigenvector of {@code values[j]}
 */
public record SymmetricEigen(double[] values, double[][] vectors) {
    private static final int MAX_SWEEPS = 100;

    /** Decomposes {@code a} (not modified); throws if it is not square and symmetric. */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        double scale = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("matrix is not square: row " + i + " has " + a[i].length
                        + " entries, expected " + n);
            }
            m[i] = a[i].clone();
            for (int j = 0; j < n; j++) {
                scale = Math.max(scale, Math.abs(a[i][j]));
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                if (Math.abs(a[i][j] - a[j][i]) > 1e-9 * Math.max(scale, Double.MIN_NORMAL)) {
                    throw new IllegalArgumentException("matrix is not symmetric at (" + i + ", " + j + "): "
                            + a[i][j] + " vs " + a[j][i]);
                }
            }
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            double diag = 0;
            for (int p = 0; p < n; p++) {
                diag += m[p][p] * m[p][p];
                for (int q = p + 1; q < n; q++) {
                    off += m[p][q] * m[p][q];
                }
            }
            if (off <= 1e-30 * Math.max(diag, Double.MIN_NORMAL)) {
                return sorted(m, v);
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (m[p][q] != 0) {
                        rotate(m, v, p, q);
                    }
                }
            }
        }
        throw new ArithmeticException("Jacobi eigen solver did not converge in " + MAX_SWEEPS + " sweeps (n = " + n + ")");
    }

    /** m ← Pᵀ m P and v ← v P for the rotation P in the (p, q) plane that zeroes m[p][q]. */
    private static void rotate(double[][] m, double[][] v, int p, int q) {
        int n = m.length;
        double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        // The smaller root of t² + 2θt − 1 = 0 keeps the rotation angle ≤ π/4 (stable).
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) {
            t = 1;
        }
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < n; k++) {
            double kp = m[k][p];
            double kq = m[k][q];
            m[k][p] = c * kp - s * kq;
            m[k][q] = s * kp + c * kq;
        }
        for (int k = 0; k < n; k++) {
            double pk = m[p][k];
            double qk = m[q][k];
            m[p][k] = c * pk - s * qk;
            m[q][k] = s * pk + c * qk;
        }
        m[p][q] = 0; // exactly zero by construction; rounding would leave a tiny residue
        m[q][p] = 0;
        for (int k = 0; k < n; k++) {
            double kp = v[k][p];
            double kq = v[k][q];
            v[k][p] = c * kp - s * kq;
            v[k][q] = s * kp + c * kq;
        }
    }

    private static SymmetricEigen sorted(double[][] m, double[][] v) {
        int n = m.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (i, j) -> Double.compare(m[i][i], m[j][j]));
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int j = 0; j < n; j++) {
            values[j] = m[order[j]][order[j]];
            for (int k = 0; k < n; k++) {
                vectors[k][j] = v[k][order[j]];
            }
        }
        return new SymmetricEigen(values, vectors);
    }

    /**
     * The symmetric square root V·diag(√λ)·Vᵀ of a positive semi-definite matrix; eigenvalues that rounding
     * made slightly negative count as zero.
     */
    public double[][] sqrtPsd() {
        int n = values.length;
        double[] root = new double[n];
        for (int j = 0; j < n; j++) {
            root[j] = Math.sqrt(Math.max(values[j], 0));
        }
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += vectors[i][j] * root[j] * vectors[k][j];
                }
                out[i][k] = sum;
            }
        }
        return out;
    }
}
