package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import dev.ditspark.core.engine.FusedOps;

/**
 * The stateless tensor functions the models are written with (the counterpart of torch.nn.functional).
 *
 * <p>Two DJL facts shape this class. (1) libtorch results attach to the first operand's manager, so each
 * function is called on the activation, never on a parameter, and intermediates die with the caller's
 * scope. (2) DJL's {@code NDArray.mul(Number)} and friends, and {@code Activation.swish}, hand libtorch
 * a scalar wrapped around a Java buffer that Java may free before backward runs: gradients then read freed
 * memory. Every scalar here is therefore a tensor libtorch owns ({@link #scalar}, made with
 * {@code NDManager.full}: filled on the device, no host→device copy, refcounted by autograd), so it may be
 * created inside a {@link dev.ditspark.core.engine.Scope} that closes before backward.
 */
public final class Functional {
    private Functional() {
    }

    /**
     * A 0-d tensor of {@code x}'s dtype on {@code x}'s device, attached to {@code x}'s manager. Filled by
     * libtorch ({@code torch.full}), so it is safe to free the wrapper before backward and costs no
     * host→device copy on a GPU. {@code v} is rounded to float32 first (as the composed ops always did).
     */
    public static NDArray scalar(NDArray x, double v) {
        return x.getManager().full(new Shape(), (float) v, x.getDataType());
    }

    /** y = x·Wᵀ + b over the last dimension; W is (out, in) as in PyTorch. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /** LayerNorm over the last dimension without affine parameters (the DiT's eps 1e-6, no keys). */
    public static NDArray layerNorm(NDArray x, float eps) {
        long d = x.getShape().get(x.getShape().dimension() - 1);
        NDManager m = x.getManager();
        NDArray ones = m.ones(new Shape(d), x.getDataType());
        NDArray zeros = m.zeros(new Shape(d), x.getDataType());
        return LayerNorm.layerNorm(x, new Shape(d), ones, zeros, eps).singletonOrThrow();
    }

    /** SiLU as x·sigmoid(x): DJL's swish keeps a freed scalar (see class comment). */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /**
     * GELU with the tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), any shape. PyTorch's fused
     * {@code gelu(approximate='tanh')} and its backward through {@link FusedOps} when loaded, else
     * {@link #geluTanhComposed} (DJL has only the erf form).
     */
    public static NDArray geluTanh(NDArray x) {
        return FusedOps.available() ? FusedOps.geluTanh(x) : geluTanhComposed(x);
    }

    /** The tanh-GELU written with 9 tensor ops (the fallback, and the reference the fused op is tested against). */
    public static NDArray geluTanhComposed(NDArray x) {
        NDArray inner = x.add(x.mul(x).mul(x).mul(scalar(x, 0.044715))).mul(scalar(x, Math.sqrt(2.0 / Math.PI)));
        return x.mul(scalar(x, 0.5)).mul(inner.tanh().add(scalar(x, 1.0)));
    }

    /**
     * modulate(h, shift, scale) = h·(1 + scale) + shift, broadcast over tokens: h is (N, T, D), shift and
     * scale are (N, D).
     */
    public static NDArray modulate(NDArray h, NDArray shift, NDArray scale) {
        return h.mul(scale.expandDims(1).add(scalar(h, 1.0))).add(shift.expandDims(1));
    }

    /** 2-D convolution with kernel = stride = p and no padding (the patch embedding). */
    public static NDArray patchConv(NDArray x, NDArray weight, NDArray bias, int p) {
        return Conv2d.conv2d(x, weight, bias, new Shape(p, p), new Shape(0, 0), new Shape(1, 1), 1).singletonOrThrow();
    }

    /** 2-D convolution with a square kernel, the given stride and symmetric zero padding (PyTorch's Conv2d). */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding) {
        return Conv2d.conv2d(x, weight, bias, new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    /**
     * GroupNorm over (N, C, H, W): each sample's C/groups channels × H × W are normalised together (biased
     * variance, as torch), then a per-channel affine. DJL has no group norm: it is a LayerNorm over the
     * (N, groups, rest) view.
     */
    public static NDArray groupNorm(NDArray x, int groups, float eps, NDArray weight, NDArray bias) {
        Shape s = x.getShape();
        long c = s.get(1);
        NDArray g = x.reshape(s.get(0), groups, -1);
        long rest = g.getShape().get(2);
        NDManager m = x.getManager();
        NDArray ones = m.ones(new Shape(rest), x.getDataType());
        NDArray zeros = m.zeros(new Shape(rest), x.getDataType());
        NDArray normed = LayerNorm.layerNorm(g, new Shape(rest), ones, zeros, eps).singletonOrThrow();
        return normed.reshape(s).mul(weight.reshape(1, c, 1, 1)).add(bias.reshape(1, c, 1, 1));
    }

    /** max(x, 0), as a tensor op (no Java scalar). */
    public static NDArray relu(NDArray x) {
        return Activation.relu(x);
    }

    /** Max pooling over non-overlapping k×k windows of (N, C, H, W). */
    public static NDArray maxPool(NDArray x, int k) {
        return Pool.maxPool2d(x, new Shape(k, k), new Shape(k, k), new Shape(0, 0), false);
    }

    /** Rows of {@code table} picked by the int64 {@code indices}, attached to the indices' manager. */
    public static NDArray embedding(NDArray indices, NDArray table) {
        return Embedding.embedding(indices, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * softmax(q·kᵀ/√d)·v over (N, heads, T, d) queries and (N, heads, S, d) keys and values → (N, heads, T, d).
     * PyTorch's {@code scaled_dot_product_attention} through {@link FusedOps} when loaded (flash or
     * memory-efficient kernels on CUDA; no T×S scores kept for backward), else {@link #attentionComposed}.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v) {
        return FusedOps.available() ? FusedOps.attention(q, k, v) : attentionComposed(q, k, v);
    }

    /** Attention written out as matmul, scale, softmax, matmul (the fallback: DJL has no fused attention). */
    public static NDArray attentionComposed(NDArray q, NDArray k, NDArray v) {
        long headDim = q.getShape().get(3);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scalar(q, 1.0 / Math.sqrt(headDim)));
        return scores.softmax(-1).matMul(v);
    }
}
