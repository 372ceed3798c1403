package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;

/**
 * {@code final_layer} of the in-context ablation: LayerNorm (eps 1e-6, no affine) then {@code linear}
 * D → p·p·out_channels, zero-initialised. No modulation: the condition entered through the sequence, and its two
 * tokens were dropped before this layer.
 */
public final class InContextFinalLayer extends OutputLayer {
    private final Linear linear;

    public InContextFinalLayer(DiTConfig cfg) {
        this.linear = child("linear", new Linear(cfg.hiddenSize(),
                (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels()));
    }

    /** x (N, T, D) → (N, T, p·p·out_channels); {@code c} unused. */
    @Override
    public NDArray forward(NDArray x, NDArray c) {
        return linear.forward(Functional.layerNorm(x, Block.LN_EPS));
    }

    @Override
    public long macs(long tokens) {
        return linear.macs(tokens);
    }
}
