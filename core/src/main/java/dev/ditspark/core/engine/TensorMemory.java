package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.EngineBridge;
import java.nio.ByteBuffer;

/**
 * A tensor's own memory, for the collectives (no copy). For a CPU tensor the buffer is the tensor's storage: writing
 * it changes the tensor in place (a gradient written this way is the parameter's {@code .grad}). For a CUDA tensor
 * the buffer's address is a device pointer ({@code data_ptr()}): Java must never read it; only its address is handed
 * to NCCL. DJL 0.36 has no public API for this; see {@link EngineBridge}.
 */
public final class TensorMemory {
    private TensorMemory() {
    }

    /** Whether {@link #view} is the tensor's own memory (contiguous, dense). */
    public static boolean isContiguous(NDArray array) {
        return EngineBridge.isContiguous(array);
    }

    /**
     * The tensor's memory as a direct buffer in native order, {@code size × itemsize} bytes; empty for an empty
     * tensor.
     *
     * @throws IllegalArgumentException the tensor is not contiguous (the buffer would not be its memory), or not a
     *     PyTorch tensor
     */
    public static ByteBuffer view(NDArray array) {
        return EngineBridge.memory(array);
    }
}
