package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.ditspark.core.engine.Scope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The Diffusion Transformer of Peebles &amp; Xie (DIT_SPEC.md §1): patchify, add the fixed 2-D position
 * embedding, condition on c = t_emb + y_emb through {@code depth} blocks, final layer, unpatchify.
 *
 * <p>State_dict keys are the reference's ({@code x_embedder.proj.weight}, {@code pos_embed},
 * {@code blocks.0.attn.qkv.weight}, ...), so the released weights load unchanged.
 */
public final class DiT extends Module {
    private final DiTConfig config;
    private final PatchEmbed xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final Parameter posEmbed;
    private final List<DiTBlock> blocks;
    private final FinalLayer finalLayer;

    public DiT(DiTConfig config) {
        this.config = config;
        int d = config.hiddenSize();
        this.xEmbedder = child("x_embedder", new PatchEmbed(config.inChannels(), d, config.patchSize()));
        this.tEmbedder = child("t_embedder", new TimestepEmbedder(d));
        this.yEmbedder = child("y_embedder", new LabelEmbedder(config.numClasses(), d, config.classDropoutProb()));
        this.posEmbed = fixed("pos_embed", SinCos.positionEmbedding(d, config.gridSize()), 1, config.numPatches(), d);
        Module blockList = child("blocks", new Module() { });
        List<DiTBlock> list = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            list.add(blockList.child(Integer.toString(i), new DiTBlock(config)));
        }
        this.blocks = Collections.unmodifiableList(list);
        this.finalLayer = child("final_layer", new FinalLayer(config));
    }

    public DiTConfig config() {
        return config;
    }

    public LabelEmbedder labelEmbedder() {
        return yEmbedder;
    }

    /**
     * x (N, C, H, W) float32, t (N) int64 steps 0..999, y (N) int64 labels (num_classes = null)
     * → (N, out_channels, H, W): channels 0..C-1 predict ε, C..2C-1 the variance interpolation v.
     * Label dropout is not applied here: a training step passes {@link LabelEmbedder#trainingLabels}.
     */
    public NDArray forward(NDArray x, NDArray t, NDArray y) {
        // Each piece runs in its own scope (a sub-manager of x's), so only its outputs outlive it: a forward
        // holds one block's intermediates at a time, plus what autograd saves inside libtorch.
        NDManager out = x.getManager();
        int tokens = config.numPatches();
        NDArray h;
        NDArray c;
        NDArray context = null;
        try (Scope s = Scope.under(out)) {
            s.borrow(x);
            s.borrow(t);
            s.borrow(y);
            h = xEmbedder.forward(x).add(posEmbed.value()); // (N, T, D)
            NDArray tEmb = tEmbedder.forward(t); // (N, D)
            NDArray yEmb = yEmbedder.forward(y); // (N, D)
            c = s.keep(tEmb.add(yEmb));
            switch (config.conditioning()) {
                case IN_CONTEXT -> h = h.concat(tEmb.expandDims(1), 1).concat(yEmb.expandDims(1), 1); // (N, T+2, D)
                case CROSS_ATTENTION -> context = s.keep(tEmb.expandDims(1).concat(yEmb.expandDims(1), 1)); // (N, 2, D)
                default -> { }
            }
            s.keep(h);
        }
        for (DiTBlock block : blocks) {
            try (Scope s = Scope.under(out)) {
                s.take(h); // the previous block's output is dead once this block has read it
                s.borrow(c);
                s.borrow(context);
                h = s.keep(block.forward(h, c, context));
            }
        }
        try (Scope s = Scope.under(out)) {
            s.take(h);
            s.take(c);
            s.take(context);
            if (config.conditioning() == Conditioning.IN_CONTEXT) {
                h = h.get(new NDIndex(":, :{}", tokens)); // drop the two condition tokens
            }
            return s.keep(unpatchify(finalLayer.forward(h, c)));
        }
    }

    /**
     * (N, T, p·p·C_out) → (N, C_out, H, W): token (i, j) holds its patch ordered (patch row, patch column,
     * channel), channel fastest, and fills pixels [i·p, i·p+p) × [j·p, j·p+p).
     */
    NDArray unpatchify(NDArray tokens) {
        long n = tokens.getShape().get(0);
        int g = config.gridSize();
        int p = config.patchSize();
        int c = config.outChannels();
        return tokens.reshape(n, g, g, p, p, c).transpose(0, 5, 1, 3, 2, 4).reshape(n, c, (long) g * p, (long) g * p);
    }

    /**
     * The guided forward of classifier-free guidance. The batch is [z; z] with labels [y; null]; only the
     * first half of x is used (duplicated). The guided ε = u + s·(c − u) is written to both halves.
     * By default the reference's choice: only the first 3 ε channels are guided (what reproduces the published
     * FIDs), the rest of ε and the variance channels pass through; {@code allChannels} guides all C ε channels.
     */
    public NDArray forwardWithCfg(NDArray x, NDArray t, NDArray y, double scale, boolean allChannels) {
        long n = x.getShape().get(0);
        if (n % 2 != 0) {
            throw new IllegalArgumentException("guided forward needs an even batch [z; z], got " + n);
        }
        long half = n / 2;
        try (Scope s = Scope.under(x.getManager())) {
            s.borrow(x);
            NDArray z = x.get(new NDIndex(":{}", half));
            NDArray out = forward(z.concat(z, 0), t, y);
            int guided = allChannels ? config.inChannels() : Math.min(3, config.inChannels());
            NDArray eps = out.get(new NDIndex(":, :{}", guided));
            NDArray rest = out.get(new NDIndex(":, {}:", guided));
            NDArray cond = eps.get(new NDIndex(":{}", half));
            NDArray uncond = eps.get(new NDIndex("{}:", half));
            NDArray mixed = uncond.add(cond.sub(uncond).mul(Functional.scalar(cond, scale)));
            return s.keep(mixed.concat(mixed, 0).concat(rest, 1));
        }
    }

    /** Forward multiply-accumulates of one sample (the paper's "Gflops" unit when divided by 1e9). */
    public long forwardMacs() {
        long tokens = config.numPatches();
        long sequence = config.conditioning() == Conditioning.IN_CONTEXT ? tokens + 2 : tokens;
        long total = xEmbedder.macs(tokens) + tEmbedder.macs() + finalLayer.macs(tokens);
        for (DiTBlock b : blocks) {
            total += b.macs(sequence);
        }
        return total;
    }
}
