package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.nn.Conv2d;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.GroupNorm;
import dev.ditspark.core.nn.Module;

/**
 * diffusers' ResnetBlock2D without a time embedding: x + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))), the skip
 * through a 1×1 {@code conv_shortcut} when the channel count changes (dropout 0, output scale 1).
 */
final class ResnetBlock extends Module {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d shortcut;

    ResnetBlock(int in, int out, int groups) {
        this.norm1 = child("norm1", new GroupNorm(groups, in));
        this.conv1 = child("conv1", Conv2d.same3x3(in, out));
        this.norm2 = child("norm2", new GroupNorm(groups, out));
        this.conv2 = child("conv2", Conv2d.same3x3(out, out));
        this.shortcut = in != out ? child("conv_shortcut", Conv2d.pointwise(in, out)) : null;
    }

    /** (N, in, H, W) → (N, out, H, W). */
    NDArray forward(NDArray x) {
        NDArray h = conv1.forward(Functional.silu(norm1.forward(x)));
        h = conv2.forward(Functional.silu(norm2.forward(h)));
        return (shortcut != null ? shortcut.forward(x) : x).add(h);
    }
}
