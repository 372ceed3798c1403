package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.ModuleList;

/**
 * The paper's "adaLN" ablation (§3.2): like {@link DiTBlock} but {@code adaLN_modulation.1} is Linear(D→4D),
 * shifts and scales only, no gates, and it is not zero-initialised. LayerNorms: eps 1e-6, no affine.
 */
public final class AdaLnBlock extends Block {
    private final Attention attn;
    private final Mlp mlp;
    private final Linear modulation;

    public AdaLnBlock(DiTConfig cfg) {
        int d = cfg.hiddenSize();
        this.attn = child("attn", new Attention(d, cfg.numHeads()));
        this.mlp = child("mlp", new Mlp(d, cfg.mlpHidden()));
        this.modulation = child("adaLN_modulation", new ModuleList()).add("1", new Linear(d, 4L * d));
    }

    /** x (N, T, D), c (N, D) → (N, T, D). */
    @Override
    public NDArray forward(NDArray x, NDArray c) {
        NDList m = modulation.forward(Functional.silu(c)).split(4, 1);
        x = x.add(attn.forward(Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(0), m.get(1))));
        return x.add(mlp.forward(Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(2), m.get(3))));
    }

    @Override
    public long macs(long tokens) {
        return attn.macs(tokens) + mlp.macs(tokens) + modulation.macs(1);
    }
}
