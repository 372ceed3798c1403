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
