package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import java.util.random.RandomGenerator;

/**
 * {@code y_embedder}: a (num_classes + 1) × D table whose last row is the "null" class used by
 * classifier-free guidance.
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
                .parameter("weight", Init.normal(0.02), numClasses + 1, hidden);
    }

    /**
     * The labels a training step embeds: with {@code forceDrop} exactly the marked labels become the null
     * class; otherwise each label is dropped with probability class_dropout_prob (0.1).
     */
    public long[] trainingLabels(long[] labels, boolean[] forceDrop, RandomGenerator rng) {
        long[] out = labels.clone();
        for (int i = 0; i < out.length; i++) {
            boolean drop = forceDrop != null ? forceDrop[i] : rng.nextDouble() < dropoutProb;
            if (drop) {
                out[i] = numClasses;
            }
        }
        return out;
    }

    /** (N) int64 labels in 0..num_classes → (N, D). */
    public NDArray forward(NDArray labels) {
        return Functional.embedding(labels, table.value());
    }
}
