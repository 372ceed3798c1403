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
 * diffusers' VAE Decoder: conv_in from the latent, the mid block, one UpDecoderBlock2D per level in reversed
 * channel order (layers_per_block + 1 resnets, then a ×2 upsampler on all but the last), GroupNorm, SiLU,
 * conv_out to image channels.
 */
final class VaeDecoder extends Module {
    private final Conv2d convIn;
    private final MidBlock mid;
    private final List<List<ResnetBlock>> resnets = new ArrayList<>();
    private final List<Upsample> upsamplers = new ArrayList<>();
    private final GroupNorm normOut;
    private final Conv2d convOut;

    VaeDecoder(VaeConfig c, AttentionKeys keys) {
        List<Integer> ch = c.blockOutChannels();
        int groups = c.normNumGroups();
        int top = ch.get(ch.size() - 1);
        this.convIn = child("conv_in", Conv2d.same3x3(c.latentChannels(), top));
        this.mid = child("mid_block", new MidBlock(top, groups, keys));
        ModuleList blocks = child("up_blocks", new ModuleList());
        int in = top;
        for (int i = 0; i < ch.size(); i++) {
            int out = ch.get(ch.size() - 1 - i);
            ModuleList block = blocks.add(i, new ModuleList());
            ModuleList rs = block.add("resnets", new ModuleList());
            List<ResnetBlock> level = new ArrayList<>();
            for (int j = 0; j < c.layersPerBlock() + 1; j++) {
                level.add(rs.add(j, new ResnetBlock(j == 0 ? in : out, out, groups)));
            }
            resnets.add(level);
            boolean last = i == ch.size() - 1;
            upsamplers.add(last ? null : block.add("upsamplers", new ModuleList()).add(0, new Upsample(out)));
            in = out;
        }
        this.normOut = child("conv_norm_out", new GroupNorm(groups, ch.get(0)));
        this.convOut = child("conv_out", Conv2d.same3x3(ch.get(0), c.outChannels()));
    }

    /** (N, latent, h, w) → (N, 3, h·f, w·f). */
    NDArray forward(NDArray z) {
        // One scope per piece (no-grad decoding): only the current feature map and the next one are alive.
        NDArray h = Scope.apply(z, false, a -> mid.forward(convIn.forward(a)));
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock r : resnets.get(i)) {
                h = Scope.apply(h, true, r::forward);
            }
            Upsample up = upsamplers.get(i);
            if (up != null) {
                h = Scope.apply(h, true, up::forward);
            }
        }
        return Scope.apply(h, true, a -> convOut.forward(Functional.silu(normOut.forward(a))));
    }
}
