package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;

/**
 * The paper's "cross-attention" ablation (§3.2): pre-LN self-attention, then multi-head cross-attention from the
 * tokens to the length-two sequence [t_emb, y_emb], then the MLP. LayerNorms: eps 1e-6, no affine.
 */
public final class CrossAttentionBlock extends Block {
    private final Attention attn;
    private final CrossAttention crossAttn;
    private final Mlp mlp;

    public CrossAttentionBlock(DiTConfig cfg) {
        int d = cfg.hiddenSize();
        this.attn = child("attn", new Attention(d, cfg.numHeads()));
        this.crossAttn = child("cross_attn", new CrossAttention(d, cfg.numHeads()));
        this.mlp = child("mlp", new Mlp(d, cfg.mlpHidden()));
    }

    /** x (N, T, D), context (N, 2, D) the stacked [t_emb, y_emb] → (N, T, D). */
    @Override
    public NDArray forward(NDArray x, NDArray context) {
        x = x.add(attn.forward(Functional.layerNorm(x, LN_EPS)));
        x = x.add(crossAttn.forward(Functional.layerNorm(x, LN_EPS), context));
        return x.add(mlp.forward(Functional.layerNorm(x, LN_EPS)));
    }

    @Override
    public long macs(long tokens) {
        return attn.macs(tokens) + crossAttn.macs(tokens, 2) + mlp.macs(tokens);
    }
}
