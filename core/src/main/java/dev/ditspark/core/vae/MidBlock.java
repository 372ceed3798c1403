package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;

/** diffusers' UNetMidBlock2D as the VAE uses it: resnet, attention, resnet at constant width. */
final class MidBlock extends Module {
    private final ResnetBlock first;
    private final SpatialAttention attention;
    private final ResnetBlock second;

    MidBlock(int channels, int groups, AttentionKeys keys) {
        ModuleList resnets = child("resnets", new ModuleList());
        ModuleList attentions = child("attentions", new ModuleList());
        this.first = resnets.add(0, new ResnetBlock(channels, channels, groups));
        this.attention = attentions.add(0, new SpatialAttention(channels, groups, keys));
        this.second = resnets.add(1, new ResnetBlock(channels, channels, groups));
    }

    NDArray forward(NDArray x) {
        return second.forward(attention.forward(first.forward(x)));
    }
}
