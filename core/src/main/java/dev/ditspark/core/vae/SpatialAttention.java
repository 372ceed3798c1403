package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.GroupNorm;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;

/**
 * The mid block's single-head self-attention over the H·W positions (diffusers' Attention with
 * residual_connection, heads = 1, head dim = C): x + out(softmax(q·kᵀ/√C)·v), q, k, v from {@code group_norm(x)}.
 */
final class SpatialAttention extends Module {
    private final GroupNorm norm;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear out;

    SpatialAttention(int channels, int groups, AttentionKeys keys) {
        this.norm = child("group_norm", new GroupNorm(groups, channels));
        this.query = child(keys.query, new Linear(channels, channels));
        this.key = child(keys.key, new Linear(channels, channels));
        this.value = child(keys.value, new Linear(channels, channels));
        if (keys.out.contains(".")) { // to_out.0 (to_out.1 is a parameterless dropout)
            String[] parts = keys.out.split("\\.");
            this.out = child(parts[0], new ModuleList()).add(parts[1], new Linear(channels, channels));
        } else {
            this.out = child(keys.out, new Linear(channels, channels));
        }
    }

    /** (N, C, H, W) → (N, C, H, W). */
    NDArray forward(NDArray x) {
        var s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long t = s.get(2) * s.get(3);
        NDArray h = norm.forward(x).reshape(n, c, t).transpose(0, 2, 1); // (N, T, C)
        NDArray q = query.forward(h).expandDims(1); // (N, 1, T, C): one head
        NDArray k = key.forward(h).expandDims(1);
        NDArray v = value.forward(h).expandDims(1);
        NDArray o = out.forward(Functional.attention(q, k, v).squeeze(1)); // (N, T, C)
        return o.transpose(0, 2, 1).reshape(s).add(x);
    }
}
