package dev.ditspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) as ADM's evaluator computes them (its
 * ManifoldEstimator with k = 3, no radius clamping): each set's manifold is the union of balls around its
 * vectors whose squared radius is the squared distance to the k-th nearest neighbour within the set (the vector
 * itself counting as the 0-th); precision is the fraction of samples inside the reference manifold, recall the
 * fraction of references inside the sample manifold.
 *
 * <p>Squared distances are ‖u‖² − 2u·v + ‖v‖², clamped at 0, in float32 on {@code manager}'s device (ADM computes
 * them in float16 when that is finite, else float32), in blocks of {@code rowBatch} rows against all columns, so
 * memory is rowBatch × N floats. Results do not depend on the block size.
 */
public final class PrecisionRecall {
    /** ADM's neighbourhood size. */
    public static final int K = 3;

    private PrecisionRecall() {
    }

    public record Result(double precision, double recall) {
    }

    /**
     * @param ref {@code nRef × dim} row-major reference features (ADM: the reference batch's pool features)
     * @param sample {@code nSample × dim} row-major sample features
     * @param rowBatch rows per distance block (memory rowBatch × max(nRef, nSample) floats)
     */
    public static Result compute(float[] ref, int nRef, float[] sample, int nSample, int dim, int k, int rowBatch,
            NDManager manager) {
        check(ref, nRef, dim, k, "reference");
        check(sample, nSample, dim, k, "sample");
        try (NDManager m = manager.newSubManager()) {
            NDArray r = m.create(ref, new Shape(nRef, dim));
            NDArray s = m.create(sample, new Shape(nSample, dim));
            NDArray radiiRef = radii(r, k, rowBatch);
            NDArray radiiSample = radii(s, k, rowBatch);
            boolean[] sampleIn = new boolean[nSample]; // inside some reference ball: precision
            boolean[] refIn = new boolean[nRef]; // inside some sample ball: recall
            for (int start = 0; start < nRef; start += rowBatch) {
                int rows = Math.min(rowBatch, nRef - start);
                try (NDManager b = m.newSubManager()) {
                    NDArray rowsRef = r.get(start + ":" + (start + rows));
                    rowsRef.attach(b);
                    NDArray d = distances(rowsRef, s); // (rows, nSample)
                    NDArray rr = radiiRef.get(start + ":" + (start + rows)).reshape(rows, 1);
                    rr.attach(b);
                    float[] inRef = d.lte(rr).toType(DataType.FLOAT32, false).max(new int[] {0}).toFloatArray();
                    float[] inSample = d.lte(radiiSample.reshape(1, nSample)).toType(DataType.FLOAT32, false)
                            .max(new int[] {1}).toFloatArray();
                    for (int j = 0; j < nSample; j++) {
                        sampleIn[j] |= inRef[j] > 0;
                    }
                    for (int i = 0; i < rows; i++) {
                        refIn[start + i] |= inSample[i] > 0;
                    }
                }
            }
            return new Result(fraction(sampleIn), fraction(refIn));
        }
    }

    /**
     * The k-th nearest-neighbour squared distance of every row of {@code x} (N, D) within x (the row itself is
     * the 0-th), as (N) float32 on x's manager.
     */
    static NDArray radii(NDArray x, int k, int rowBatch) {
        long n = x.getShape().get(0);
        float[] out = new float[Math.toIntExact(n)];
        for (long start = 0; start < n; start += rowBatch) {
            long rows = Math.min(rowBatch, n - start);
            try (NDManager b = x.getManager().newSubManager()) {
                NDArray block = x.get(start + ":" + (start + rows));
                block.attach(b);
                NDArray smallest = distances(block, x).topK(k + 1, 1, false, true).get(0); // ascending
                float[] kth = smallest.get(":, " + k).toFloatArray();
                System.arraycopy(kth, 0, out, (int) start, (int) rows);
            }
        }
        return x.getManager().create(out);
    }

    /** max(‖u‖² − 2u·vᵀ + ‖v‖², 0): (R, D) × (C, D) → (R, C), on u's manager. */
    static NDArray distances(NDArray u, NDArray v) {
        NDArray nu = u.mul(u).sum(new int[] {1}).reshape(-1, 1);
        NDArray nv = v.mul(v).sum(new int[] {1}).reshape(1, -1);
        NDArray d = nu.sub(u.matMul(v.transpose()).mul(u.getManager().full(new Shape(), 2f, DataType.FLOAT32))).add(nv);
        return d.maximum(u.getManager().full(new Shape(), 0f, DataType.FLOAT32));
    }

    private static void check(float[] f, int n, int dim, int k, String what) {
        if (f.length != (long) n * dim) {
            throw new IllegalArgumentException(what + " features hold " + f.length + " values, expected " + n + " x " + dim);
        }
        if (n <= k) {
            throw new IllegalArgumentException("precision/recall need more than k = " + k + " " + what + " vectors, got " + n);
        }
    }

    private static double fraction(boolean[] b) {
        int c = 0;
        for (boolean x : b) {
            c += x ? 1 : 0;
        }
        return (double) c / b.length;
    }
}
