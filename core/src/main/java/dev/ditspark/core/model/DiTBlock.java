package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * One transformer block, in the conditioning variant of the config.
 *
 * <ul>
 *   <li>adaLN-Zero: {@code adaLN_modulation.1} = SiLU + Linear(D→6D) on c, split (shift_msa, scale_msa,
 *       gate_msa, shift_mlp, scale_mlp, gate_mlp); x += gate·Attn(modulate(LN(x))); x += gate·MLP(...).
 *       The modulation starts at zero, so the block starts as the identity.</li>
 *   <li>adaLN: Linear(D→4D) (shifts and scales only), no gates, not zero-initialised.</li>
 *   <li>in-context: a plain pre-LN block; the condition rides along as two extra tokens.</li>
 *   <li>cross-attention: pre-LN self-attention, then cross-attention to [t_emb, y_emb], then the MLP.</li>
 * </ul>
 * LayerNorms have eps 1e-6 and no affine parameters (so no keys and nothing to train).
 */
public final class DiTBlock extends Module {
    static final float LN_EPS = 1e-6f;

    private final Conditioning conditioning;
    private final Attention attn;
    private final CrossAttention crossAttn;
    private final Mlp mlp;
    private final Linear modulation;
    private final int hidden;

    public DiTBlock(DiTConfig cfg) {
        this.conditioning = cfg.conditioning();
        this.hidden = cfg.hiddenSize();
        this.attn = child("attn", new Attention(hidden, cfg.numHeads()));
        this.crossAttn = conditioning == Conditioning.CROSS_ATTENTION
                ? child("cross_attn", new CrossAttention(hidden, cfg.numHeads()))
                : null;
        this.mlp = child("mlp", new Mlp(hidden, cfg.mlpHidden()));
        this.modulation = switch (conditioning) {
            // adaLN_modulation is nn.Sequential(SiLU, Linear): the Linear is index 1.
            case ADALN_ZERO -> child("adaLN_modulation", new Module() { })
                    .child("1", new Linear(hidden, 6L * hidden, Init.ZEROS));
            case ADALN -> child("adaLN_modulation", new Module() { })
                    .child("1", new Linear(hidden, 4L * hidden));
            case IN_CONTEXT, CROSS_ATTENTION -> null;
        };
    }

    /**
     * x (N, T, D) tokens; c (N, D) the summed t and y embeddings; context (N, 2, D) the stacked
     * [t_emb, y_emb] (used by cross-attention only). Returns (N, T, D).
     */
    public NDArray forward(NDArray x, NDArray c, NDArray context) {
        switch (conditioning) {
            case ADALN_ZERO -> {
                NDList m = modulation.forward(Functional.silu(c)).split(6, 1);
                NDArray h = Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(0), m.get(1));
                x = x.add(m.get(2).expandDims(1).mul(attn.forward(h)));
                h = Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(3), m.get(4));
                return x.add(m.get(5).expandDims(1).mul(mlp.forward(h)));
            }
            case ADALN -> {
                NDList m = modulation.forward(Functional.silu(c)).split(4, 1);
                x = x.add(attn.forward(Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(0), m.get(1))));
                return x.add(mlp.forward(Functional.modulate(Functional.layerNorm(x, LN_EPS), m.get(2), m.get(3))));
            }
            case IN_CONTEXT -> {
                x = x.add(attn.forward(Functional.layerNorm(x, LN_EPS)));
                return x.add(mlp.forward(Functional.layerNorm(x, LN_EPS)));
            }
            case CROSS_ATTENTION -> {
                x = x.add(attn.forward(Functional.layerNorm(x, LN_EPS)));
                x = x.add(crossAttn.forward(Functional.layerNorm(x, LN_EPS), context));
                return x.add(mlp.forward(Functional.layerNorm(x, LN_EPS)));
            }
            default -> throw new IllegalStateException(conditioning.toString());
        }
    }

    /** Multiply-accumulates at batch 1 with {@code tokens} tokens in the sequence. */
    public long macs(long tokens) {
        long total = attn.macs(tokens) + mlp.macs(tokens);
        if (modulation != null) {
            total += modulation.macs(1);
        }
        if (crossAttn != null) {
            total += crossAttn.macs(tokens, 2);
        }
        return total;
    }
}
