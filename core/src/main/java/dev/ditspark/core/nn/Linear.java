package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;

/** A fully connected layer with PyTorch's (out, in) weight layout and keys {@code weight}, {@code bias}. */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final long in;
    private final long out;

    public Linear(long in, long out, Init weightInit) {
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", weightInit, out, in);
        this.bias = parameter("bias", Init.ZEROS, out);
    }

    /** Xavier-uniform weight and zero bias (models.py's {@code _basic_init}; a DiT decides in {@code DiT.initializer}). */
    public Linear(long in, long out) {
        this(in, out, Init.XAVIER_UNIFORM);
    }

    /** (..., in) → (..., out). */
    public NDArray forward(NDArray x) {
        return Functional.linear(x, weight.value(), bias.value());
    }

    /** Multiply-accumulates for {@code rows} input vectors. */
    public long macs(long rows) {
        return rows * in * out;
    }
}
