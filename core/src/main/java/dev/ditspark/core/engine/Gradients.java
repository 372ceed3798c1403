package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A parameter's accumulated gradient as libtorch holds it ({@code tensor.grad}). DJL's {@code getGradient()} returns
 * fresh zeros when there is none, and its {@code set(index, 0f)} leaves a scalar on the parameter's manager per call:
 * these ask libtorch directly.
 */
public final class Gradients {
    private Gradients() {
    }

    /**
     * The accumulated gradient of {@code parameter} (same shape and dtype), or null when no backward pass has reached
     * it. The caller owns the returned wrapper (attach or close it); closing it does not free the gradient itself.
     */
    public static NDArray of(NDArray parameter) {
        return JniUtils.getGradient((PtNDArray) parameter);
    }

    /**
     * Drops the accumulated gradient, as PyTorch's {@code zero_grad(set_to_none=True)} (its default since 2.0) does:
     * libtorch cannot reset {@code tensor.grad} through DJL, so this returns a new leaf that shares {@code parameter}'s
     * storage and has no gradient, and the caller replaces the parameter with it and closes the old one, which frees
     * the gradient. The next backward allocates a fresh gradient, so between steps (the whole forward pass) no
     * gradient memory is held: for DiT-XL/2 that is 2.7 GB of fp32 (see docs/benchmarks.md, peak memory).
     *
     * <p>A tensor DJL made from Java data ({@code manager.create(float[])}, a safetensors read) lives in a Java direct
     * buffer that only its first wrapper keeps alive: the caller keeps that wrapper open for as long as any leaf made
     * from it is in use (see {@code Parameter}), so no copy is ever made.
     *
     * @return the new leaf (same manager, storage, shape and dtype; requires grad), or null when {@code parameter}
     *     has no gradient (nothing to drop)
     */
    public static NDArray release(NDArray parameter) {
        PtNDArray p = (PtNDArray) parameter;
        try (PtNDArray g = JniUtils.getGradient(p)) {
            if (g == null) {
                return null;
            }
        }
        return leaf(parameter);
    }

    /** A new leaf sharing {@code value}'s storage, with no gradient and requires grad set; {@code value} is unchanged. */
    public static NDArray leaf(NDArray value) {
        NDArray fresh = JniUtils.detachGradient((PtNDArray) value);
        fresh.setRequiresGradient(true);
        return fresh;
    }

    /** Sets the accumulated gradient to zero in place ({@code grad.zero_()}, so a NaN is cleared too); none: no-op. */
    public static void zero(NDArray parameter) {
        PtNDArray p = (PtNDArray) parameter;
        try (PtNDArray g = JniUtils.getGradient(p)) {
            if (g != null) {
                JniUtils.zeroGrad(p);
            }
        }
    }
}
