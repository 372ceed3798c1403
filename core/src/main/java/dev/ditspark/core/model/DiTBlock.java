package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.ModuleList;

/**
 * The DiT block with adaLN-Zero conditioning (models.py {@code DiTBlock}, paper §3.2): {@code adaLN_modulation.1}
 * = SiLU then Linear(D→6D) on c, split (shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp);
 * x += gate_msa·Attn(modulate(LN(x))); x += gate_mlp·MLP(modulate(LN(x))). The modulation starts at zero
 * ({@link DiT#initializer}), so each block starts as the identity. LayerNorms: eps 1e-6, no affine parameters.
 */
public final class DiTBlock extends Block {
    private final Attention attn;
    private final Mlp mlp;
    private final Linear modulation;

    public DiTBlock(DiTConfig cfg) {
        int d = cfg.hiddenSize();
        this.attn = child("attn", new Attention(d, cfg.numHeads()));
        this.mlp = child("mlp", new Mlp(d, cfg.mlpHidden()));
        // adaLN_modulation is nn.Sequential(SiLU, Linear): the Linear is index 1.
        this.modulation = child("adaLN_modulation", new ModuleList()).add("1", new Linear(d, 6L * d));
    }

    /** x (N, T, D), c (N, D) the summed timestep and label embeddings → (N, T, D). */
    @Override
    public NDArray forward(NDArray x, NDArray c) {
        NDList m = modulation.forward(Functional.silu(c)).split(6, 1);
        NDArray h = Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(0), m.get(1));
        x = x.add(m.get(2).expandDims(1).mul(attn.forward(h)));
        h = Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(3), m.get(4));
        return x.add(m.get(5).expandDims(1).mul(mlp.forward(h)));
    }

    @Override
    public long macs(long tokens) {
        return attn.macs(tokens) + mlp.macs(tokens) + modulation.macs(1);
    }
}
