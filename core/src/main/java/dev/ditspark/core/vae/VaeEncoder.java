package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import dev.ditspark.core.engine.Scope;
import dev.ditspark.core.nn.Conv2d;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.GroupNorm;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' VAE Encoder: conv_in, one DownEncoderBlock2D per level (layers_per_block resnets, then a
 * stride-2 downsampler on all but the last level), the mid block, GroupNorm, SiLU, conv_out to 2·latent
 * channels (mean and log-variance).
 */
final class VaeEncoder extends Module {
    private final Conv2d convIn;
    private final List<List<ResnetBlock>> resnets = new ArrayList<>();
    private final List<Downsample> downsamplers = new ArrayList<>();
    private final MidBlock mid;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    VaeEncoder(VaeConfig c, AttentionKeys keys) {
        List<Integer> ch = c.blockOutChannels();
        int groups = c.normNumGroups();
        this.convIn = child("conv_in", Conv2d.same3x3(c.inChannels(), ch.get(0)));
        ModuleList blocks = child("down_blocks", new ModuleList());
        int in = ch.get(0);
        for (int i = 0; i < ch.size(); i++) {
            int out = ch.get(i);
            ModuleList block = blocks.add(i, new ModuleList());
            ModuleList rs = block.add("resnets", new ModuleList());
            List<ResnetBlock> level = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock(); j++) {
                level.add(rs.add(j, new ResnetBlock(j == 0 ? in : out, out, groups)));
            }
            resnets.add(level);
            boolean last = i == ch.size() - 1;
            downsamplers.add(last ? null : block.add("downsamplers", new ModuleList()).add(0, new Downsample(out)));
            in = out;
        }
        int top = ch.get(ch.size() - 1);
        this.mid = child("mid_block", new MidBlock(top, groups, keys));
        this.normOut = child("conv_norm_out", new GroupNorm(groups, top));
        this.convOut = child("conv_out", Conv2d.same3x3(top, 2 * c.latentChannels()));
    }

    /** (N, 3, H, W) → (N, 2·latent, H/f, W/f). */
    NDArray forward(NDArray x) {
        // One scope per piece, as in the decoder.
        NDArray h = Scope.apply(x, false, convIn::forward);
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock r : resnets.get(i)) {
                h = Scope.apply(h, true, r::forward);
            }
            Downsample down = downsamplers.get(i);
            if (down != null) {
                h = Scope.apply(h, true, down::forward);
            }
        }
        h = Scope.apply(h, true, mid::forward);
        return Scope.apply(h, true, a -> convOut.forward(Functional.silu(normOut.forward(a))));
    }
}
