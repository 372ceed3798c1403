package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.nn.Conv2d;
import dev.ditspark.core.nn.Module;

/**
 * diffusers' Downsample2D of the VAE encoder: zero-pad one pixel on the right and bottom only, then a 3×3
 * convolution with stride 2 and no padding (key {@code conv}): H×W → H/2×W/2.
 */
final class Downsample extends Module {
    private final Conv2d conv;

    Downsample(int channels) {
        this.conv = child("conv", new Conv2d(channels, channels, 3, 2, 0));
    }

    NDArray forward(NDArray x) {
        // Pad widths in torch's order, last dim first: (left, right, top, bottom) = (0, 1, 0, 1).
        return conv.forward(x.pad(new Shape(0, 1, 0, 1), 0));
    }
}
