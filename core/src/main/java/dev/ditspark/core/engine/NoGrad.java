package dev.ditspark.core.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * {@code torch.no_grad()} for a block: libtorch's grad mode is per thread and on by default (DJL turns it off
 * only on the thread that loads the engine), and in-place updates of parameters, as an optimizer step does,
 * are refused while it is on. Restores the mode it found.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    public static NoGrad enter() {
        TorchEngine.engine();
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new NoGrad(previous);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
