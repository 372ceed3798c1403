package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import java.util.random.RandomGenerator;

/**
 * {@code y_embedder}: the label embedding table, (num_classes + 1) × D when class_dropout_prob > 0 (the last
 * row is the "null" class that classifier-free guidance conditions on), num_classes × D otherwise. This is the
 * reference's rule (facebookresearch/DiT models.py, {@code LabelEmbedder}: {@code use_cfg_embedding =
 * dropout_prob > 0}), so a model trained without label dropout exports weights PyTorch's DiT loads.
 */
public final class LabelEmbedder extends Module {
    private final Parameter table;
    private final int numClasses;
    private final double dropoutProb;

    public LabelEmbedder(int numClasses, int hidden, double dropoutProb) {
        this.numClasses = numClasses;
        this.dropoutProb = dropoutProb;
        // embedding_table is an nn.Embedding in the reference: key embedding_table.weight.
        this.table = child("embedding_table", new Module() { })
                .parameter("weight", Init.normal(0.02), rows(numClasses, dropoutProb), hidden);
    }

    /** Rows of the table: num_classes, plus the null class when labels are dropped in training (p > 0). */
    public static int rows(int numClasses, double dropoutProb) {
        return numClasses + (dropoutProb > 0 ? 1 : 0);
    }

    /** Whether the table has the null-class row (class_dropout_prob > 0). */
    public boolean hasNullClass() {
        return dropoutProb > 0;
    }

    /**
     * The labels a training step embeds: with {@code forceDrop} exactly the marked labels become the null
     * class; otherwise each label is dropped with probability class_dropout_prob (0.1).
     */
    public long[] trainingLabels(long[] labels, boolean[] forceDrop, RandomGenerator rng) {
        long[] out = labels.clone();
        if (forceDrop != null && !hasNullClass()) {
            for (boolean d : forceDrop) {
                if (d) {
                    throw new IllegalStateException("this model has no null class (class_dropout_prob = 0): "
                            + "labels cannot be dropped");
                }
            }
        }
        for (int i = 0; i < out.length; i++) {
            boolean drop = forceDrop != null ? forceDrop[i] : rng.nextDouble() < dropoutProb;
            if (drop) {
                out[i] = numClasses;
            }
        }
        return out;
    }

    /** (N) int64 labels in 0..num_classes (num_classes = null, only with a null row) → (N, D). */
    public NDArray forward(NDArray labels) {
        return Functional.embedding(labels, table.value());
    }
}
