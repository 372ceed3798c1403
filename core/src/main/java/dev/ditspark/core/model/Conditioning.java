package dev.ditspark.core.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How the timestep and class condition enter the transformer blocks (the paper's Figure 3 design space). */
public enum Conditioning {
    /** The paper's choice: adaptive LayerNorm with zero-initialised gates; each block starts as the identity. */
    ADALN_ZERO("adaln-zero"),
    /** Adaptive LayerNorm (shift and scale regressed from c), no gates, modulation not zero-initialised. */
    ADALN("adaln"),
    /** t and y embeddings appended as two extra tokens, removed before the final layer. */
    IN_CONTEXT("in-context"),
    /** A cross-attention layer after self-attention over the two tokens [t_emb, y_emb]. */
    CROSS_ATTENTION("cross-attn");

    private final String id;

    Conditioning(String id) {
        this.id = id;
    }

    /** The name used in configs and fixture metadata. */
    public String id() {
        return id;
    }

    public static Conditioning fromId(String id) {
        for (Conditioning c : values()) {
            if (c.id.equalsIgnoreCase(id)) {
                return c;
            }
        }
        throw new IllegalArgumentException("conditioning: unknown value '" + id + "', expected one of "
                + Arrays.stream(values()).map(Conditioning::id).collect(Collectors.joining(", ")));
    }
}
