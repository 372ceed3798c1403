package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;

/** The block MLP: {@code fc1} D→4D, GELU (tanh approximation), {@code fc2} 4D→D. */
public final class Mlp extends Module {
    private final Linear fc1;
    private final Linear fc2;

    public Mlp(int hidden, int mlpHidden) {
        this.fc1 = child("fc1", new Linear(hidden, mlpHidden));
        this.fc2 = child("fc2", new Linear(mlpHidden, hidden));
    }

    /** (N, T, D) → (N, T, D). */
    public NDArray forward(NDArray x) {
        return fc2.forward(Functional.geluTanh(fc1.forward(x)));
    }

    public long macs(long tokens) {
        return fc1.macs(tokens) + fc2.macs(tokens);
    }
}
