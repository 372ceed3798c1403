package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Conv2d;
import dev.ditspark.core.nn.Module;

/** diffusers' Upsample2D of the VAE decoder: nearest-neighbour ×2, then a 3×3 "same" convolution ({@code conv}). */
final class Upsample extends Module {
    private final Conv2d conv;

    Upsample(int channels) {
        this.conv = child("conv", Conv2d.same3x3(channels, channels));
    }

    NDArray forward(NDArray x) {
        // Nearest ×2 = every pixel repeated twice along H, then along W.
        return conv.forward(x.repeat(2, 2).repeat(3, 2));
    }
}
