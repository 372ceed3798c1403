package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;

/** {@code t_embedder}: 256 sinusoidal frequencies → Linear(256→D) → SiLU → Linear(D→D). */
public final class TimestepEmbedder extends Module {
    static final int FREQUENCY_SIZE = 256;
    private final Linear fc1;
    private final Linear fc2;

    public TimestepEmbedder(int hidden) {
        ModuleList mlp = child("mlp", new ModuleList());
        // Keys mlp.0 and mlp.2 (mlp.1 is the SiLU of the reference's nn.Sequential).
        this.fc1 = mlp.add(0, new Linear(FREQUENCY_SIZE, hidden));
        this.fc2 = mlp.add(2, new Linear(hidden, hidden));
    }

    /** (N) integer steps → (N, D). */
    public NDArray forward(NDArray t) {
        NDArray freq = SinCos.timestepEmbedding(t, FREQUENCY_SIZE);
        return fc2.forward(Functional.silu(fc1.forward(freq)));
    }

    public long macs() {
        return fc1.macs(1) + fc2.macs(1);
    }
}
