package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/** GroupNorm with affine parameters ({@code weight}, {@code bias}); the autoencoder's eps is 1e-6. */
public final class GroupNorm extends Module {
    public static final float EPS = 1e-6f;
    private static final Init ONES = (data, shape, rng) -> Arrays.fill(data, 1f);

    private final Parameter weight;
    private final Parameter bias;
    private final int groups;

    public GroupNorm(int groups, int channels) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException("norm_num_groups " + groups + " does not divide " + channels + " channels");
        }
        this.groups = groups;
        this.weight = parameter("weight", ONES, channels);
        this.bias = parameter("bias", Init.ZEROS, channels);
    }

    public NDArray forward(NDArray x) {
        return Functional.groupNorm(x, groups, EPS, weight.value(), bias.value());
    }
}
