package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Module;

/** The last layer of a {@link DiT}, tokens to patch values: {@link FinalLayer} or {@link InContextFinalLayer}. */
public abstract class OutputLayer extends Module {
    OutputLayer() {
    }

    /** x (N, T, D), c (N, D) the summed timestep and label embeddings → (N, T, p·p·out_channels). */
    public abstract NDArray forward(NDArray x, NDArray c);

    /** Multiply-accumulates at batch 1 for {@code tokens} tokens. */
    public abstract long macs(long tokens);
}
