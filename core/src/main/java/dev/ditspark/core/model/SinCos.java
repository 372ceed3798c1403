package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** The fixed sinusoidal embeddings of docs/model.md ("Pieces"): 2-D position embedding and timestep frequencies. */
public final class SinCos {
    private SinCos() {
    }

    /**
     * The (T, D) 2-D sin-cos position embedding of a g×g grid, computed in float64 then cast to float32.
     * Token k sits at row k / g, column k % g; the first D/2 dims encode the column, the second D/2 the row;
     * each half is [sin(pos·ω), cos(pos·ω)] (sin first) with ω_i = 1 / 10000^(i / (D/4)).
     */
    public static float[] positionEmbedding(int hidden, int grid) {
        int quarter = hidden / 4;
        double[] omega = new double[quarter];
        for (int i = 0; i < quarter; i++) {
            omega[i] = 1.0 / Math.pow(10000.0, (double) i / quarter);
        }
        float[] out = new float[grid * grid * hidden];
        for (int k = 0; k < grid * grid; k++) {
            int row = k / grid;
            int col = k % grid;
            int base = k * hidden;
            for (int i = 0; i < quarter; i++) {
                out[base + i] = (float) Math.sin(col * omega[i]);
                out[base + quarter + i] = (float) Math.cos(col * omega[i]);
                out[base + 2 * quarter + i] = (float) Math.sin(row * omega[i]);
                out[base + 3 * quarter + i] = (float) Math.cos(row * omega[i]);
            }
        }
        return out;
    }

    /**
     * The (N, dim) timestep embedding: f_i = exp(-ln(10000)·i/half), args = t·f, [cos(args), sin(args)]
     * (cos first). Computed with libtorch float32 ops in the reference's order so the frequencies round the
     * same way (at t = 999 one ulp of a frequency moves the argument by ~6e-5).
     */
    public static NDArray timestepEmbedding(NDArray t, int dim) {
        NDManager m = t.getManager();
        int half = dim / 2;
        NDArray freqs = m.arange(0f, (float) half, 1f, DataType.FLOAT32)
                .mul(m.full(new Shape(), (float) -Math.log(10000.0), DataType.FLOAT32))
                .div(m.full(new Shape(), (float) half, DataType.FLOAT32))
                .exp();
        NDArray args = t.toType(DataType.FLOAT32, false).expandDims(1).mul(freqs.expandDims(0));
        NDArray emb = args.cos().concat(args.sin(), 1);
        if (dim % 2 == 1) {
            emb = emb.concat(m.zeros(new Shape(emb.getShape().get(0), 1)), 1);
        }
        return emb;
    }
}
