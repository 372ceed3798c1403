package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.model.Functional;
import dev.ditspark.core.model.Init;
import dev.ditspark.core.model.Module;
import dev.ditspark.core.model.Parameter;

/** PyTorch's Conv2d with a square kernel and bias: keys {@code weight} (out, in, k, k) and {@code bias}. */
final class Conv2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int stride;
    private final int padding;

    Conv2d(int in, int out, int kernel, int stride, int padding) {
        this.weight = parameter("weight", Init.XAVIER_UNIFORM, out, in, kernel, kernel);
        this.bias = parameter("bias", Init.ZEROS, out);
        this.stride = stride;
        this.padding = padding;
    }

    /** The "same" 3×3 convolution used throughout the autoencoder. */
    static Conv2d same3x3(int in, int out) {
        return new Conv2d(in, out, 3, 1, 1);
    }

    static Conv2d pointwise(int in, int out) {
        return new Conv2d(in, out, 1, 1, 0);
    }

    NDArray forward(NDArray x) {
        return Functional.conv2d(x, weight.value(), bias.value(), stride, padding);
    }
}
