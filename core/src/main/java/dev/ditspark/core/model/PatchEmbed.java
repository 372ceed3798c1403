package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;
import dev.ditspark.core.nn.Parameter;

/** {@code x_embedder}: Conv2d C→D with kernel = stride = p, flattened row-major to T tokens. */
public final class PatchEmbed extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int patch;
    private final int channels;
    private final int hidden;

    public PatchEmbed(int channels, int hidden, int patch) {
        this.patch = patch;
        this.channels = channels;
        this.hidden = hidden;
        ModuleList proj = child("proj", new ModuleList()); // an nn.Conv2d in the reference: keys proj.weight, proj.bias
        this.weight = proj.addParameter("weight", hidden, channels, patch, patch);
        this.bias = proj.addParameter("bias", hidden);
    }

    /** (N, C, H, W) → (N, T, D), token k = patch (k / g, k % g). */
    public NDArray forward(NDArray x) {
        NDArray h = Functional.patchConv(x, weight.value(), bias.value(), patch); // (N, D, g, g)
        return h.flatten(2, 3).transpose(0, 2, 1);
    }

    public long macs(long tokens) {
        return tokens * hidden * (long) channels * patch * patch;
    }
}
