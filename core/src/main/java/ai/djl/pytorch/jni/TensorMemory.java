package ai.djl.pytorch.jni;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tensor's own memory, for the collectives. DJL 0.36 has no public device pointer; its engine's native
 * {@code torchDirectByteBuffer} wraps {@code data_ptr()} of the tensor itself (no copy, no device check), and
 * is package-private, hence this class in DJL's package. Used only by {@code dev.ditspark.core.collective}.
 *
 * <p>For a CPU tensor the buffer is the tensor's storage: writing it changes the tensor in place (a gradient
 * written this way is the parameter's {@code .grad}). For a CUDA tensor the buffer's address is a device
 * pointer: Java must never read it; only its address is handed to NCCL.
 */
public final class TensorMemory {
    private TensorMemory() {
    }

    /** Whether {@link #view} is the tensor's own memory (contiguous, dense). */
    public static boolean isContiguous(NDArray array) {
        return PyTorchLibrary.LIB.torchIsContiguous(handle(array));
    }

    /**
     * The tensor's memory as a direct buffer in native order, {@code size × itemsize} bytes; empty for an
     * empty tensor. Throws if the tensor is not contiguous (the buffer would not be its memory).
     */
    public static ByteBuffer view(NDArray array) {
        long handle = handle(array);
        if (!PyTorchLibrary.LIB.torchIsContiguous(handle)) {
            throw new IllegalArgumentException("tensor " + array.getShape() + " is not contiguous");
        }
        if (array.size() == 0) {
            return ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());
        }
        return PyTorchLibrary.LIB.torchDirectByteBuffer(handle).order(ByteOrder.nativeOrder());
    }

    private static long handle(NDArray array) {
        if (!(array instanceof PtNDArray pt)) {
            throw new IllegalArgumentException("not a PyTorch tensor: " + array.getClass().getName());
        }
        return pt.getHandle();
    }
}
