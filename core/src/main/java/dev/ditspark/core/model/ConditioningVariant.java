package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.function.Function;

/**
 * What a {@link Conditioning} changes in a {@link DiT}: its block and final-layer classes, and how the timestep
 * and label embeddings reach the blocks. {@link #of} is the one place a variant is chosen; the DiT asks it once,
 * when it is built, and its forward pass has no per-variant branches (docs/model.md, "Conditioning variants").
 */
abstract class ConditioningVariant {
    /** The variant of {@code conditioning}. */
    static ConditioningVariant of(Conditioning conditioning) {
        return switch (conditioning) {
            case ADALN_ZERO -> new Modulated(DiTBlock::new);
            case ADALN -> new Modulated(AdaLnBlock::new);
            case IN_CONTEXT -> new InContext();
            case CROSS_ATTENTION -> new CrossAttention();
        };
    }

    abstract Block newBlock(DiTConfig cfg);

    OutputLayer newFinalLayer(DiTConfig cfg) {
        return new FinalLayer(cfg);
    }

    /** Condition tokens appended to the patch tokens before the first block (2 for in-context, else 0). */
    int extraTokens() {
        return 0;
    }

    /** The sequence entering the first block: the patch tokens (N, T, D), plus any condition tokens. */
    NDArray enter(NDArray tokens, NDArray tEmb, NDArray yEmb) {
        return tokens;
    }

    /** What every block is conditioned on, from t_emb, y_emb and c = t_emb + y_emb, each (N, D). */
    NDArray blockCondition(NDArray tEmb, NDArray yEmb, NDArray c) {
        return c;
    }

    /** adaLN-Zero and adaLN: the blocks regress their modulation from c. */
    private static final class Modulated extends ConditioningVariant {
        private final Function<DiTConfig, Block> block;

        Modulated(Function<DiTConfig, Block> block) {
            this.block = block;
        }

        @Override
        Block newBlock(DiTConfig cfg) {
            return block.apply(cfg);
        }
    }

    /** In-context: t_emb and y_emb are two more tokens, dropped again before the final layer. */
    private static final class InContext extends ConditioningVariant {
        @Override
        Block newBlock(DiTConfig cfg) {
            return new InContextBlock(cfg);
        }

        @Override
        OutputLayer newFinalLayer(DiTConfig cfg) {
            return new InContextFinalLayer(cfg);
        }

        @Override
        int extraTokens() {
            return 2;
        }

        @Override
        NDArray enter(NDArray tokens, NDArray tEmb, NDArray yEmb) {
            return tokens.concat(tEmb.expandDims(1), 1).concat(yEmb.expandDims(1), 1); // (N, T+2, D)
        }
    }

    /** Cross-attention: the blocks attend to the length-two sequence [t_emb, y_emb]. */
    private static final class CrossAttention extends ConditioningVariant {
        @Override
        Block newBlock(DiTConfig cfg) {
            return new CrossAttentionBlock(cfg);
        }

        @Override
        NDArray blockCondition(NDArray tEmb, NDArray yEmb, NDArray c) {
            return tEmb.expandDims(1).concat(yEmb.expandDims(1), 1); // (N, 2, D)
        }
    }

    /** The first {@code patches} tokens of the last block's output (drops the condition tokens, if any). */
    final NDArray leave(NDArray tokens, int patches) {
        return extraTokens() == 0 ? tokens : tokens.get(new NDIndex(":, :{}", patches));
    }
}
