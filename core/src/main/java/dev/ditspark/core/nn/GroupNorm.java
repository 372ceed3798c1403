package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * GroupNorm over (N, C, H, W) with affine parameters {@code weight}, {@code bias} of shape (C); eps is fixed at 1e-6,
 * the SD autoencoder's.
 */
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
