package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.ModuleList;

/**
 * {@code final_layer} (models.py {@code FinalLayer}): LayerNorm (eps 1e-6, no affine), adaLN modulation SiLU then
 * Linear(D→2D) split (shift, scale), modulate, then {@code linear} D → p·p·out_channels. Both Linears start at
 * zero ({@link DiT#initializer}). Used by every variant whose blocks see c (adaLN-Zero, adaLN, cross-attention).
 */
public final class FinalLayer extends OutputLayer {
    private final Linear modulation;
    private final Linear linear;

    public FinalLayer(DiTConfig cfg) {
        int d = cfg.hiddenSize();
        this.modulation = child("adaLN_modulation", new ModuleList()).add("1", new Linear(d, 2L * d));
        this.linear = child("linear", new Linear(d, (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels()));
    }

    @Override
    public NDArray forward(NDArray x, NDArray c) {
        NDList m = modulation.forward(Functional.silu(c)).split(2, 1);
        return linear.forward(Functional.modulate(Functional.layerNorm(x, Block.LN_EPS), m.get(0), m.get(1)));
    }

    @Override
    public long macs(long tokens) {
        return linear.macs(tokens) + modulation.macs(1);
    }
}
