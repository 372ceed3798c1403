package dev.ditspark.core.diffusion;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A chain's per-step coefficients on the device: one (K, T) float32 table (the float64 arrays of
 * {@link NoiseSchedule} cast to float32, one row per coefficient) and the (T) int64 original steps, uploaded
 * once per device and root manager and freed with that manager. A batch's coefficients are gathered on the
 * device with one (N) int64 index tensor: {@code table.gather(1, index)} gives every coefficient of every sample
 * in one kernel; when all samples share a step (sampling) no index is uploaded at all and each coefficient is a
 * view of the table.
 *
 * <p>DDIM's per-step weights depend on η and are computed in float32 from the float32 ᾱ, the reference's order
 * of operations; they get a (3, T) table per η, uploaded once as well.
 */
final class DiffusionTables {
    static final int SQRT_ALPHAS_CUMPROD = 0;
    static final int SQRT_ONE_MINUS_ALPHAS_CUMPROD = 1;
    static final int SQRT_RECIP_ALPHAS_CUMPROD = 2;
    static final int SQRT_RECIPM1_ALPHAS_CUMPROD = 3;
    static final int POSTERIOR_LOG_VARIANCE_CLIPPED = 4;
    static final int LOG_BETAS = 5;
    static final int POSTERIOR_MEAN_COEF1 = 6;
    static final int POSTERIOR_MEAN_COEF2 = 7;
    static final int FIXED_VARIANCE = 8;
    static final int FIXED_LOG_VARIANCE = 9;
    /** [t ≠ 0]: no noise is added on the last reverse step. */
    static final int NONZERO = 10;
    private static final int COLUMNS = 11;

    static final int DDIM_SQRT_ALPHA_PREV = 0;
    static final int DDIM_EPS_WEIGHT = 1;
    static final int DDIM_NOISE_WEIGHT = 2;
    private static final int DDIM_COLUMNS = 3;

    private final int steps;
    private final float[] host; // (COLUMNS, steps), row-major
    private final long[] original;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final List<Placed> placed = new ArrayList<>();

    DiffusionTables(NoiseSchedule schedule, FixedVariance fixedVariance) {
        steps = schedule.numTimesteps();
        original = schedule.timestepMap();
        alphasCumprod = schedule.alphasCumprod();
        alphasCumprodPrev = schedule.alphasCumprodPrev();
        double[][] columns = new double[COLUMNS][];
        columns[SQRT_ALPHAS_CUMPROD] = schedule.sqrtAlphasCumprod();
        columns[SQRT_ONE_MINUS_ALPHAS_CUMPROD] = schedule.sqrtOneMinusAlphasCumprod();
        columns[SQRT_RECIP_ALPHAS_CUMPROD] = schedule.sqrtRecipAlphasCumprod();
        columns[SQRT_RECIPM1_ALPHAS_CUMPROD] = schedule.sqrtRecipm1AlphasCumprod();
        columns[POSTERIOR_LOG_VARIANCE_CLIPPED] = schedule.posteriorLogVarianceClipped();
        columns[LOG_BETAS] = schedule.logBetas();
        columns[POSTERIOR_MEAN_COEF1] = schedule.posteriorMeanCoef1();
        columns[POSTERIOR_MEAN_COEF2] = schedule.posteriorMeanCoef2();
        boolean large = fixedVariance == FixedVariance.LARGE;
        columns[FIXED_VARIANCE] = large ? schedule.fixedLargeVariance() : schedule.posteriorVariance();
        columns[FIXED_LOG_VARIANCE] = large ? schedule.fixedLargeLogVariance() : schedule.posteriorLogVarianceClipped();
        columns[NONZERO] = new double[steps];
        for (int i = 1; i < steps; i++) {
            columns[NONZERO][i] = 1.0;
        }
        host = new float[COLUMNS * steps];
        for (int k = 0; k < COLUMNS; k++) {
            for (int i = 0; i < steps; i++) {
                host[k * steps + i] = (float) columns[k][i];
            }
        }
    }

    /** DDIM's weights per step for η, in float32 as the reference computes them from the float32-cast ᾱ. */
    private float[] ddimHost(double eta) {
        float[] w = new float[DDIM_COLUMNS * steps];
        for (int k = 0; k < steps; k++) {
            float ab = (float) alphasCumprod[k];
            float abPrev = (float) alphasCumprodPrev[k];
            float sigma = (float) eta * (float) Math.sqrt((1f - abPrev) / (1f - ab)) * (float) Math.sqrt(1f - ab / abPrev);
            w[DDIM_SQRT_ALPHA_PREV * steps + k] = (float) Math.sqrt(abPrev);
            w[DDIM_EPS_WEIGHT * steps + k] = (float) Math.sqrt(1f - abPrev - sigma * sigma);
            w[DDIM_NOISE_WEIGHT * steps + k] = (k != 0 ? 1f : 0f) * sigma;
        }
        return w;
    }

    /** The coefficients of steps {@code t} (one per sample of {@code like}, a batch (N, …)). */
    Rows gather(long[] t, NDArray like) {
        check(t, like);
        Placed p = placed(like);
        return new Rows(p.table, p.original, t, like, original);
    }

    /** DDIM's weights of steps {@code t} for stochasticity {@code eta}. */
    Rows gatherDdim(long[] t, NDArray like, double eta) {
        check(t, like);
        Placed p = placed(like);
        NDArray table;
        synchronized (this) {
            table = p.ddim.computeIfAbsent(Double.doubleToLongBits(eta),
                    e -> p.manager.create(ddimHost(eta), new Shape(DDIM_COLUMNS, steps)));
        }
        return new Rows(table, null, t, like, original);
    }

    private void check(long[] t, NDArray like) {
        long n = like.getShape().get(0);
        if (t.length != n) {
            throw new IllegalArgumentException("got " + t.length + " timesteps for a batch of " + n);
        }
        for (long s : t) {
            if (s < 0 || s >= steps) {
                throw new IllegalArgumentException("timestep " + s + " is outside this chain of " + steps + " steps");
            }
        }
    }

    /** The tables on {@code like}'s device under its root manager, uploading them the first time. */
    private synchronized Placed placed(NDArray like) {
        NDManager root = root(like.getManager());
        Device device = like.getDevice();
        placed.removeIf(p -> !p.root.isOpen());
        for (Placed p : placed) {
            if (p.root == root && p.device.equals(device)) {
                return p;
            }
        }
        NDManager manager = root.newSubManager(device);
        Placed p = new Placed(root, device, manager, manager.create(host, new Shape(COLUMNS, steps)),
                manager.create(original), new HashMap<>());
        placed.add(p);
        return p;
    }

    /** The manager the caller created at the top (below DJL's system manager): it lives as long as the work. */
    private static NDManager root(NDManager m) {
        while (m.getParentManager() != null && m.getParentManager().getParentManager() != null) {
            m = m.getParentManager();
        }
        return m;
    }

    private record Placed(NDManager root, Device device, NDManager manager, NDArray table, NDArray original,
            Map<Long, NDArray> ddim) {
    }

    /**
     * One batch's coefficients: every tensor made here belongs to the batch operand's manager and dies with it.
     * Columns are (N, 1, …, 1), or (1, …, 1) when every sample has the same step.
     */
    static final class Rows {
        private final NDManager manager;
        private final int rank;
        private final long n;
        private final NDArray block; // (K, N, 1, …, 1) gathered, or (K, 1, …, 1) a column of the table when uniform
        private final NDArray index; // (N) int64; null when uniform
        private final NDArray originalTable;
        private final long uniformStep; // −1 unless uniform
        private final long uniformOriginal;

        private Rows(NDArray table, NDArray originalTable, long[] t, NDArray like, long[] original) {
            this.manager = like.getManager();
            this.rank = like.getShape().dimension();
            this.n = t.length;
            this.originalTable = originalTable;
            boolean uniform = true;
            for (long s : t) {
                uniform &= s == t[0];
            }
            long rows = table.getShape().get(0);
            // (K, N or 1, 1, …, 1): row k is then a coefficient shaped to broadcast over the batch, one call each.
            long[] dims = new long[rank + 1];
            Arrays.fill(dims, 1);
            dims[0] = rows;
            if (uniform) {
                index = null;
                uniformStep = t[0];
                uniformOriginal = original[(int) t[0]];
                try (NDArray column = table.get(manager, new NDIndex(":, {}", t[0]))) { // (K), a view of the table
                    block = column.reshape(new Shape(dims));
                }
            } else {
                index = manager.create(t); // the one host-to-device copy of the batch's steps
                dims[1] = n;
                try (NDArray expanded = index.expandDims(0).broadcast(new Shape(rows, n));
                        NDArray gathered = table.gather(expanded, 1)) { // (K, N), one kernel
                    gathered.attach(manager); // results of ops on the table land on its manager
                    block = gathered.reshape(new Shape(dims));
                }
                uniformStep = -1;
                uniformOriginal = -1;
            }
        }

        /** Coefficient {@code k} of each sample, shaped to broadcast over the batch: (N, 1, …, 1) or (1, …, 1). */
        NDArray get(int k) {
            return block.get(manager, k);
        }

        /** The original (undiffused-chain) step of each sample, (N) int64, for the model's timestep embedding. */
        NDArray originalTimesteps() {
            if (index == null) {
                return manager.full(new Shape(n), uniformOriginal, DataType.INT64);
            }
            NDArray o = originalTable.gather(index, 0);
            o.attach(manager);
            return o;
        }

        /** [t = 0] per sample, (N) boolean. */
        NDArray first() {
            NDArray zero = manager.zeros(new Shape(), DataType.INT64);
            NDArray steps = index != null ? index : manager.full(new Shape(n), uniformStep, DataType.INT64);
            return steps.eq(zero);
        }
    }
}
