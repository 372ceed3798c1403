package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;

/** PyTorch's Conv2d with a square kernel and bias: keys {@code weight} (out, in, k, k) and {@code bias}. */
public final class Conv2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int stride;
    private final int padding;

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this.weight = parameter("weight", Init.XAVIER_UNIFORM, out, in, kernel, kernel);
        this.bias = parameter("bias", Init.ZEROS, out);
        this.stride = stride;
        this.padding = padding;
    }

    /** The "same" 3×3 convolution used throughout the autoencoder. */
    public static Conv2d same3x3(int in, int out) {
        return new Conv2d(in, out, 3, 1, 1);
    }

    public static Conv2d pointwise(int in, int out) {
        return new Conv2d(in, out, 1, 1, 0);
    }

    public NDArray forward(NDArray x) {
        return Functional.conv2d(x, weight.value(), bias.value(), stride, padding);
    }
}
