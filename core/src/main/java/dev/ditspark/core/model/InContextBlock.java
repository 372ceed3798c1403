package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;

/**
 * The paper's "in-context conditioning" ablation (§3.2): a plain pre-LN ViT block. The condition is not an
 * input here: the timestep and label embeddings ride in the sequence as two extra tokens
 * ({@link ConditioningVariant}), so {@code cond} is ignored. LayerNorms: eps 1e-6, no affine.
 */
public final class InContextBlock extends Block {
    private final Attention attn;
    private final Mlp mlp;

    public InContextBlock(DiTConfig cfg) {
        this.attn = child("attn", new Attention(cfg.hiddenSize(), cfg.numHeads()));
        this.mlp = child("mlp", new Mlp(cfg.hiddenSize(), cfg.mlpHidden()));
    }

    /** x (N, T+2, D) → (N, T+2, D); {@code cond} unused. */
    @Override
    public NDArray forward(NDArray x, NDArray cond) {
        x = x.add(attn.forward(Functional.layerNorm(x, LN_EPS)));
        return x.add(mlp.forward(Functional.layerNorm(x, LN_EPS)));
    }

    @Override
    public long macs(long tokens) {
        return attn.macs(tokens) + mlp.macs(tokens);
    }
}
