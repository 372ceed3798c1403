package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Module;

/**
 * One transformer block of a {@link DiT}. {@link DiTBlock} is the paper's adaLN-Zero block (models.py
 * {@code DiTBlock}); {@link AdaLnBlock}, {@link InContextBlock} and {@link CrossAttentionBlock} are the
 * conditioning ablations of the paper's §3.2 (Figure 3). The class is chosen once, when the model is built,
 * by {@link ConditioningVariant#of}. See docs/model.md.
 */
public abstract class Block extends Module {
    /** LayerNorm eps of every block and of the final layer (models.py: {@code eps=1e-6}, no affine). */
    static final float LN_EPS = 1e-6f;

    Block() {
    }

    /**
     * x (N, T, D) float32 tokens, {@code cond} what {@link ConditioningVariant#blockCondition} made for this
     * variant ((N, D) or (N, 2, D)) → (N, T, D).
     */
    public abstract NDArray forward(NDArray x, NDArray cond);

    /** Multiply-accumulates at batch 1 with {@code tokens} tokens in the sequence. */
    public abstract long macs(long tokens);
}
