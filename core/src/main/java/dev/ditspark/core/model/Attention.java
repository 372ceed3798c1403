package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;

/** Multi-head self-attention with one fused {@code qkv} projection (D→3D) and an output {@code proj}. */
public final class Attention extends Module {
    private final Linear qkv;
    private final Linear proj;
    private final int heads;
    private final int hidden;

    public Attention(int hidden, int heads) {
        this.hidden = hidden;
        this.heads = heads;
        this.qkv = child("qkv", new Linear(hidden, 3L * hidden));
        this.proj = child("proj", new Linear(hidden, hidden));
    }

    /** (N, T, D) → (N, T, D). */
    public NDArray forward(NDArray x) {
        long n = x.getShape().get(0);
        long t = x.getShape().get(1);
        // (N, T, 3D) → (3, N, heads, T, D/heads): qkv's output is ordered (q|k|v, head, head dim).
        NDArray qkvs = qkv.forward(x).reshape(n, t, 3, heads, hidden / heads).transpose(2, 0, 3, 1, 4);
        NDArray o = Functional.attention(qkvs.get(0), qkvs.get(1), qkvs.get(2)); // (N, heads, T, d)
        return proj.forward(o.transpose(0, 2, 1, 3).reshape(n, t, hidden));
    }

    /** Projections plus the two T×T attention products. */
    public long macs(long tokens) {
        return qkv.macs(tokens) + proj.macs(tokens) + 2L * tokens * tokens * hidden;
    }
}
