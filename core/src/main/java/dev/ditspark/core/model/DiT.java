package dev.ditspark.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.ditspark.core.engine.Scope;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Init;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.ModuleList;
import dev.ditspark.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The Diffusion Transformer of Peebles &amp; Xie (docs/model.md): patchify, add the fixed 2-D position
 * embedding, condition on c = t_emb + y_emb through {@code depth} blocks, final layer, unpatchify.
 *
 * <p>The conditioning variant ({@link ConditioningVariant}) is chosen once here, from the config: it gives the block
 * and final-layer classes and how the condition reaches them, so {@link #forward} has no per-variant branch.
 *
 * <p>State_dict keys are the reference's ({@code x_embedder.proj.weight}, {@code pos_embed},
 * {@code blocks.0.attn.qkv.weight}, ...), so the released weights load unchanged.
 */
public final class DiT extends Module {
    private static final Pattern ADALN_ZERO_MODULATION = Pattern.compile("blocks\\.\\d+\\.adaLN_modulation\\.1\\..*");

    private final DiTConfig config;
    private final ConditioningVariant variant;
    private final PatchEmbed xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final Parameter posEmbed;
    private final List<Block> blocks;
    private final OutputLayer finalLayer;

    public DiT(DiTConfig config) {
        this.config = config;
        this.variant = ConditioningVariant.of(config.conditioning());
        int d = config.hiddenSize();
        this.xEmbedder = child("x_embedder", new PatchEmbed(config.inChannels(), d, config.patchSize()));
        this.tEmbedder = child("t_embedder", new TimestepEmbedder(d));
        this.yEmbedder = child("y_embedder", new LabelEmbedder(config.labelRows(), d));
        this.posEmbed = fixed("pos_embed", SinCos.positionEmbedding(d, config.gridSize()), 1, config.numPatches(), d);
        ModuleList blockList = child("blocks", new ModuleList());
        List<Block> list = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            list.add(blockList.add(i, variant.newBlock(config)));
        }
        this.blocks = Collections.unmodifiableList(list);
        this.finalLayer = child("final_layer", variant.newFinalLayer(config));
    }

    /**
     * The initial value of every parameter, by state_dict key: models.py's {@code initialize_weights}, the one
     * place the DiT's initialisation is decided (whatever its pieces declare). Called in state_dict order by
     * {@link #initialize}, so a seed gives the same weights as long as the keys are the same.
     * <ul>
     *   <li>{@code pos_embed}: the fixed 2-D sin-cos table (frozen);</li>
     *   <li>{@code x_embedder.proj.weight}: xavier-uniform over its (D, C·p·p) view, as a Linear;</li>
     *   <li>{@code y_embedder.embedding_table.weight}, {@code t_embedder.mlp.{0,2}.weight}: normal(0, 0.02);</li>
     *   <li>adaLN-Zero: every block's {@code adaLN_modulation.1} zero (each block starts as the identity);</li>
     *   <li>{@code final_layer}: its modulation and its {@code linear} zero;</li>
     *   <li>everything else ({@code _basic_init}): Linear weights xavier-uniform, all biases zero.</li>
     * </ul>
     */
    @Override
    protected Init initializer(String key, Parameter p) {
        if (key.equals("pos_embed")) {
            return p.init();
        }
        if (key.endsWith(".bias")) {
            return Init.ZEROS;
        }
        if (key.equals("y_embedder.embedding_table.weight") || key.startsWith("t_embedder.mlp.")) {
            return Init.normal(0.02);
        }
        if (key.startsWith("final_layer.")
                || (config.conditioning() == Conditioning.ADALN_ZERO && ADALN_ZERO_MODULATION.matcher(key).matches())) {
            return Init.ZEROS;
        }
        if (key.endsWith(".weight")) {
            return Init.XAVIER_UNIFORM; // every Linear, and the patch conv over its (D, C·p·p) view
        }
        throw new IllegalStateException("DiT: no initialiser for parameter " + key);
    }

    public DiTConfig config() {
        return config;
    }

    /**
     * x (N, C, H, W) float32, t (N) int64 steps 0..999, y (N) int64 labels (num_classes = null)
     * → (N, out_channels, H, W): channels 0..C-1 predict ε, C..2C-1 the variance interpolation v.
     * Label dropout is not applied here: training passes labels already dropped to the null class
     * ({@code TrainingBatch}).
     */
    public NDArray forward(NDArray x, NDArray t, NDArray y) {
        // Each piece runs in its own scope (a sub-manager of x's), so only its outputs outlive it: a forward
        // holds one block's intermediates at a time, plus what autograd saves inside libtorch.
        NDManager out = x.getManager();
        NDArray h;
        NDArray c;
        NDArray cond;
        try (Scope s = Scope.under(out)) {
            s.borrow(x);
            s.borrow(t);
            s.borrow(y);
            NDArray tEmb = tEmbedder.forward(t); // (N, D)
            NDArray yEmb = yEmbedder.forward(y); // (N, D)
            c = s.keep(tEmb.add(yEmb));
            cond = s.keep(variant.blockCondition(tEmb, yEmb, c));
            h = s.keep(variant.enter(xEmbedder.forward(x).add(posEmbed.value()), tEmb, yEmb)); // (N, T[+2], D)
        }
        for (Block block : blocks) {
            try (Scope s = Scope.under(out)) {
                s.take(h); // the previous block's output is dead once this block has read it
                s.borrow(cond);
                h = s.keep(block.forward(h, cond));
            }
        }
        try (Scope s = Scope.under(out)) {
            s.take(h);
            s.take(c);
            if (cond != c) {
                s.take(cond);
            }
            return s.keep(unpatchify(finalLayer.forward(variant.leave(h, config.numPatches()), c)));
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
        long sequence = tokens + variant.extraTokens();
        long total = xEmbedder.macs(tokens) + tEmbedder.macs() + finalLayer.macs(tokens);
        for (Block b : blocks) {
            total += b.macs(sequence);
        }
        return total;
    }
}
