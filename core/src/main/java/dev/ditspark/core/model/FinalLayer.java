package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * {@code final_layer}: LN (eps 1e-6, no affine), adaLN modulation SiLU + Linear(D→2D) split (shift, scale),
 * modulate, then {@code linear} D → p·p·out_channels. Both Linears start at zero. The in-context variant has
 * no modulation (its condition tokens were already dropped).
 */
public final class FinalLayer extends Module {
    private final Linear modulation;
    private final Linear linear;

    public FinalLayer(DiTConfig cfg) {
        int d = cfg.hiddenSize();
        this.modulation = cfg.conditioning() == Conditioning.IN_CONTEXT
                ? null
                : child("adaLN_modulation", new Module() { }).child("1", new Linear(d, 2L * d, Init.ZEROS));
        long out = (long) cfg.patchSize() * cfg.patchSize() * cfg.outChannels();
        this.linear = child("linear", new Linear(d, out, Init.ZEROS));
    }

    /** x (N, T, D), c (N, D) → (N, T, p·p·out_channels). */
    public NDArray forward(NDArray x, NDArray c) {
        NDArray h = Functional.layerNorm(x, DiTBlock.LN_EPS);
        if (modulation != null) {
            NDList m = modulation.forward(Functional.silu(c)).split(2, 1);
            h = Functional.modulate(h, m.get(0), m.get(1));
        }
        return linear.forward(h);
    }

    public long macs(long tokens) {
        return linear.macs(tokens) + (modulation == null ? 0 : modulation.macs(1));
    }
}
