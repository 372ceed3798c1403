package dev.ditspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.Scope;
import dev.ditspark.core.eval.InceptionBlocks.BasicConv2d;
import dev.ditspark.core.eval.InceptionBlocks.Block;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Init;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Inception-v3 network FID is defined with: TensorFlow's 2015-12-05 graph as pytorch-fid ports it
 * ({@code pt_inception-2015-12-05-6726825d.pth}, converted to safetensors by
 * {@code tools/convert_pt_inception.py}), in DJL, inference only, under pytorch-fid's state_dict names
 * ({@code Conv2d_1a_3x3.conv.weight}, {@code Mixed_6d.branch7x7_2.bn.running_var}, {@code fc.weight}, ...;
 * 23,885,392 values). Architecture facts: tools/reference/inception_reference.py.
 *
 * <p>Input handling is pytorch-fid's: uint8 RGB images of any size are scaled to [0, 1], resized to 299×299 by
 * bilinear interpolation (half-pixel centres, no antialiasing: torch's {@code interpolate(align_corners=False)})
 * and mapped to [-1, 1] by 2x − 1. Outputs, as ADM's evaluator (guided-diffusion evaluations/evaluator.py) reads
 * them from the TF graph:
 * <ul>
 *   <li>pool: (N, 2048), the global average pool ({@code pool_3}), for FID and precision/recall;</li>
 *   <li>spatial: (N, 2023), the first 7 channels of {@code mixed_6/conv} (Mixed_6d's 1×1 branch after BatchNorm
 *       and ReLU, 17×17) flattened in NHWC order, for sFID;</li>
 *   <li>logits: (N, 1008), pool · Wᵀ of {@code fc} without its bias, as ADM's softmax graph computes them, for
 *       the Inception Score.</li>
 * </ul>
 */
public final class FidInception extends Module {
    /** Side of the network's input. */
    public static final int SIZE = 299;
    public static final int POOL_DIM = 2048;
    /** 17 × 17 × 7. */
    public static final int SPATIAL_DIM = 2023;
    public static final int SPATIAL_CHANNELS = 7;
    public static final int CLASSES = 1008;

    private final BasicConv2d conv1a;
    private final BasicConv2d conv2a;
    private final BasicConv2d conv2b;
    private final BasicConv2d conv3b;
    private final BasicConv2d conv4a;
    private final InceptionBlocks.C mixed6d;
    private final List<Block> before6d = new ArrayList<>();
    private final List<Block> after6d = new ArrayList<>();
    private final Parameter fcWeight;

    public FidInception() {
        conv1a = child("Conv2d_1a_3x3", new BasicConv2d(3, 32, 3, 2, 0));
        conv2a = child("Conv2d_2a_3x3", new BasicConv2d(32, 32, 3));
        conv2b = child("Conv2d_2b_3x3", new BasicConv2d(32, 64, 3, 1, 1));
        conv3b = child("Conv2d_3b_1x1", new BasicConv2d(64, 80, 1));
        conv4a = child("Conv2d_4a_3x3", new BasicConv2d(80, 192, 3));
        before6d.add(child("Mixed_5b", new InceptionBlocks.A(192, 32)));
        before6d.add(child("Mixed_5c", new InceptionBlocks.A(256, 64)));
        before6d.add(child("Mixed_5d", new InceptionBlocks.A(288, 64)));
        before6d.add(child("Mixed_6a", new InceptionBlocks.B(288)));
        before6d.add(child("Mixed_6b", new InceptionBlocks.C(768, 128)));
        before6d.add(child("Mixed_6c", new InceptionBlocks.C(768, 160)));
        mixed6d = child("Mixed_6d", new InceptionBlocks.C(768, 160));
        after6d.add(child("Mixed_6e", new InceptionBlocks.C(768, 192)));
        after6d.add(child("Mixed_7a", new InceptionBlocks.D(768)));
        after6d.add(child("Mixed_7b", new InceptionBlocks.E(1280, false)));
        after6d.add(child("Mixed_7c", new InceptionBlocks.E(2048, true)));
        Fc fc = child("fc", new Fc());
        fcWeight = fc.weight;
    }

    private static final class Fc extends Module {
        final Parameter weight = parameter("weight", Init.XAVIER_UNIFORM, CLASSES, POOL_DIM);
        final Parameter bias = parameter("bias", Init.ZEROS, CLASSES); // loaded (strict keys), unused as in ADM
    }

    /** The network's three outputs for a batch (see the class comment); on the input's manager. */
    public record Outputs(NDArray pool, NDArray spatial, NDArray logits) {
    }

    /**
     * Loads a converted pt_inception safetensors file onto {@code manager} (its device runs the network). Strict:
     * a missing, unexpected or mis-shaped key throws {@link dev.ditspark.core.weights.WeightMismatchException}
     * naming the file and every such key.
     */
    public static FidInception load(Path file, NDManager manager) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            FidInception net = new FidInception();
            StateDict.load(net, f, manager, "", Set.of());
            net.prepare();
            return net;
        }
    }

    /**
     * The architecture with deterministic random weights (for tests and for running the pipeline without the
     * published weights; its scores mean nothing). Each key's values are {@link #uniform}{@code (key, seed, ...)}
     * in the range tools/reference/inception_reference.py's {@code value_range} gives, which regenerates the same
     * float32 values in PyTorch.
     */
    public static FidInception random(long seed, NDManager manager) {
        FidInception net = new FidInception();
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            long[] shape = e.getValue().shape().getShape();
            double[] range = randomRange(e.getKey(), shape);
            float[] values = uniform(e.getKey(), seed, Math.toIntExact(e.getValue().size()), range[0], range[1]);
            e.getValue().set(manager.create(values, new Shape(shape)));
        }
        net.prepare();
        return net;
    }

    private static double[] randomRange(String key, long[] shape) {
        if (key.endsWith("conv.weight")) {
            double a = Math.sqrt(6.0 / (shape[1] * shape[2] * shape[3]));
            return new double[] {-a, a};
        }
        if (key.equals("fc.weight")) {
            double a = Math.sqrt(3.0 / shape[1]);
            return new double[] {-a, a};
        }
        if (key.endsWith("bn.weight") || key.endsWith("running_var")) {
            return new double[] {0.8, 1.2};
        }
        return new double[] {-0.1, 0.1};
    }

    /**
     * {@code count} float32 values in [lo, hi): element i is lo + (hi − lo)·uᵢ in float64 rounded to float32, with
     * uᵢ = (splitmix64(splitmix64(fnv1a64(key) ^ seed) + i) >>> 11)·2⁻⁵³ (a counter-based generator, so PyTorch
     * and Java produce identical weights; tools/reference/inception_reference.py {@code uniform}).
     */
    static float[] uniform(String key, long seed, int count, double lo, double hi) {
        long h = 0xCBF29CE484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        long base = splitmix64(h ^ seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            double u = (splitmix64(base + i) >>> 11) * 0x1.0p-53;
            out[i] = (float) (lo + (hi - lo) * u);
        }
        return out;
    }

    private static long splitmix64(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * 16 hex digits naming these weights (FNV-1a over every parameter's float32 bits in state_dict order), so
     * cached reference features are never reused with other weights. Independent of the device.
     */
    public String fingerprint() {
        long h = 0xCBF29CE484222325L;
        for (Parameter p : namedParameters().values()) {
            for (float v : p.value().toFloatArray()) {
                h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001B3L;
            }
        }
        return String.format("%016x", h);
    }

    /** Folds every BatchNorm into its convolution (once, after the weights are set). */
    private void prepare() {
        try (NoGrad g = NoGrad.enter()) {
            for (BasicConv2d c : List.of(conv1a, conv2a, conv2b, conv3b, conv4a)) {
                c.fold();
            }
            before6d.forEach(Block::fold);
            mixed6d.fold();
            after6d.forEach(Block::fold);
        }
    }

    /**
     * Images (N, H, W, 3) uint8 (or any real type with values in [0, 255]), on the model's device, → the three
     * outputs as float32 on the images' manager. Any H and W (resized to 299×299).
     */
    public Outputs forward(NDArray images) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(3) != 3) {
            throw new IllegalArgumentException("Inception input must be (N, H, W, 3) RGB images, got " + s);
        }
        try (NoGrad g = NoGrad.enter()) {
            NDArray x = Scope.apply(images, false, this::preprocess);
            x = Scope.apply(x, true, a -> maxPool(conv2b.forward(conv2a.forward(conv1a.forward(a)))));
            x = Scope.apply(x, true, a -> maxPool(conv4a.forward(conv3b.forward(a))));
            for (Block b : before6d) {
                x = Scope.apply(x, true, b::forward);
            }
            NDManager out = images.getManager();
            NDArray spatial;
            try (Scope sc = Scope.under(out)) {
                sc.take(x);
                NDArray branch = mixed6d.branch1x1(x);
                long n = s.get(0);
                spatial = sc.keep(branch.get(":, 0:" + SPATIAL_CHANNELS).transpose(0, 2, 3, 1).reshape(n, -1));
                x = sc.keep(mixed6d.forward(x, branch));
            }
            for (Block b : after6d) {
                x = Scope.apply(x, true, b::forward);
            }
            NDArray pool = Scope.apply(x, true, a -> a.reshape(s.get(0), POOL_DIM, -1).mean(new int[] {2}));
            NDArray logits = pool.matMul(fcWeight.value().transpose());
            return new Outputs(pool, spatial, logits);
        }
    }

    private static NDArray maxPool(NDArray x) {
        return InceptionBlocks.maxPool3(x, 2, 0);
    }

    /** uint8 NHWC → float NCHW in [0, 1] → bilinear 299×299 → 2x − 1 (pytorch-fid's order of operations). */
    private NDArray preprocess(NDArray images) {
        NDArray x = images.toType(DataType.FLOAT32, false).transpose(0, 3, 1, 2);
        x = x.div(Functional.scalar(x, 255.0));
        int h = Math.toIntExact(images.getShape().get(1));
        int w = Math.toIntExact(images.getShape().get(2));
        NDManager m = x.getManager();
        NDArray rw = m.create(bilinearMatrix(w, SIZE), new Shape(SIZE, w)).transpose(); // (W, 299)
        NDArray rh = m.create(bilinearMatrix(h, SIZE), new Shape(SIZE, h)); // (299, H)
        x = rh.matMul(x.matMul(rw)); // (N, 3, 299, 299)
        return x.mul(Functional.scalar(x, 2.0)).sub(Functional.scalar(x, 1.0));
    }

    /**
     * The (out × in) matrix of 1-d bilinear interpolation with half-pixel centres and no antialiasing, as torch's
     * {@code upsample_bilinear2d(align_corners=False)}: source = max((o + ½)·in/out − ½, 0), the two nearest
     * inputs weighted by distance, the upper one clamped to the last.
     */
    static float[] bilinearMatrix(int in, int out) {
        float[] m = new float[out * in];
        float scale = (float) in / out; // torch computes the scale and the source index in float for float input
        for (int o = 0; o < out; o++) {
            float src = Math.max(scale * (o + 0.5f) - 0.5f, 0f);
            int i0 = Math.min((int) src, in - 1);
            int i1 = Math.min(i0 + 1, in - 1);
            float l1 = src - i0;
            m[o * in + i0] += 1f - l1;
            m[o * in + i1] += l1;
        }
        return m;
    }

    /**
     * Features of {@code n} images given as (n, h, w, 3) uint8 bytes (an .npz's {@code arr_0} slice), computed on
     * {@code manager}'s device in batches of {@code batch}, copied to host arrays. This is the per-chunk unit a
     * Spark task runs.
     */
    public InceptionFeatures features(byte[] nhwc, int n, int h, int w, NDManager manager, int batch) {
        if ((long) n * h * w * 3 != nhwc.length) {
            throw new IllegalArgumentException(nhwc.length + " bytes are not " + n + " images of " + h + "x" + w + "x3");
        }
        float[] pool = new float[n * POOL_DIM];
        float[] spatial = new float[n * SPATIAL_DIM];
        float[] logits = new float[n * CLASSES];
        int per = h * w * 3;
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            try (NDManager sub = manager.newSubManager()) {
                ByteBuffer buf = ByteBuffer.allocateDirect(b * per);
                buf.put(nhwc, start * per, b * per).flip();
                NDArray images = sub.create(buf, new Shape(b, h, w, 3), DataType.UINT8);
                Outputs o = forward(images);
                System.arraycopy(o.pool().toFloatArray(), 0, pool, start * POOL_DIM, b * POOL_DIM);
                System.arraycopy(o.spatial().toFloatArray(), 0, spatial, start * SPATIAL_DIM, b * SPATIAL_DIM);
                System.arraycopy(o.logits().toFloatArray(), 0, logits, start * CLASSES, b * CLASSES);
            }
        }
        return new InceptionFeatures(n, pool, spatial, logits);
    }
}
