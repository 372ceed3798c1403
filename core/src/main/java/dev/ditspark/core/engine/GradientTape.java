package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Records the graph of one forward pass on the calling thread and runs its backward pass. DJL's own
 * GradientCollector allows one collector in the whole JVM (a static flag), so two data-parallel workers in one
 * JVM (local Spark: one task thread each) could not train at once; libtorch's grad mode is per thread, and
 * gradients accumulate into each model's own parameters, so one tape per thread is all that is needed.
 *
 * <pre>{@code
 * try (GradientTape tape = GradientTape.record()) {
 *     tape.backward(loss(model.forward(x)));
 * }
 * }</pre>
 */
public final class GradientTape implements AutoCloseable {
    private final boolean previous;

    private GradientTape(boolean previous) {
        this.previous = previous;
    }

    /** Turns grad mode on for this thread until {@link #close()}, which restores the mode found. */
    public static GradientTape record() {
        TorchEngine.engine();
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        return new GradientTape(previous);
    }

    /** Accumulates d(target)/d(parameter) into every parameter's gradient; {@code target} is a scalar. */
    public void backward(NDArray target) {
        try (NDArray seed = target.onesLike()) {
            JniUtils.backward((PtNDArray) target, (PtNDArray) seed, false, false);
        }
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
