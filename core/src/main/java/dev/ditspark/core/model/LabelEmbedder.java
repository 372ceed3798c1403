package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;
import dev.ditspark.core.nn.Parameter;

/**
 * {@code y_embedder}: the label embedding table, {@link DiTConfig#labelRows} × D: num_classes rows, plus the "null"
 * class that classifier-free guidance conditions on when class_dropout_prob > 0. This is the reference's rule
 * (models.py {@code LabelEmbedder}: {@code use_cfg_embedding = dropout_prob > 0}), so a model trained without label
 * dropout exports weights PyTorch's DiT loads. Labels are dropped by the training batch, not here
 * (docs/model.md, "Labels and the null class").
 */
public final class LabelEmbedder extends Module {
    private final Parameter table;

    public LabelEmbedder(int rows, int hidden) {
        // embedding_table is an nn.Embedding in the reference: key embedding_table.weight.
        this.table = child("embedding_table", new ModuleList()).addParameter("weight", rows, hidden);
    }

    /** (N) int64 labels in 0..rows-1 → (N, D) float32. */
    public NDArray forward(NDArray labels) {
        return Functional.embedding(labels, table.value());
    }
}
