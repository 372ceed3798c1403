package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;

/**
 * Cross-attention for the paper's cross-attention block: queries from the tokens ({@code q}, D→D), keys and
 * values from the conditioning tokens ({@code kv}, D→2D), then {@code proj}.
 */
public final class CrossAttention extends Module {
    private final Linear q;
    private final Linear kv;
    private final Linear proj;
    private final int heads;
    private final int hidden;

    public CrossAttention(int hidden, int heads) {
        this.hidden = hidden;
        this.heads = heads;
        this.q = child("q", new Linear(hidden, hidden));
        this.kv = child("kv", new Linear(hidden, 2L * hidden));
        this.proj = child("proj", new Linear(hidden, hidden));
    }

    /** x (N, T, D), context (N, S, D) → (N, T, D). */
    public NDArray forward(NDArray x, NDArray context) {
        long n = x.getShape().get(0);
        long t = x.getShape().get(1);
        long s = context.getShape().get(1);
        long d = hidden / heads;
        NDArray qh = q.forward(x).reshape(n, t, heads, d).transpose(0, 2, 1, 3);
        NDArray kvh = kv.forward(context).reshape(n, s, 2, heads, d).transpose(2, 0, 3, 1, 4);
        NDArray o = Functional.attention(qh, kvh.get(0), kvh.get(1));
        return proj.forward(o.transpose(0, 2, 1, 3).reshape(n, t, hidden));
    }

    public long macs(long tokens, long contextTokens) {
        return q.macs(tokens) + kv.macs(contextTokens) + proj.macs(tokens) + 2L * tokens * contextTokens * hidden;
    }
}
