package ai.djl.pytorch.jni;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one class of this project in DJL's package: DJL 0.36 has no public device pointer, and its engine's native
 * {@code torchDirectByteBuffer} (a buffer over {@code data_ptr()} of the tensor itself, no copy, no device check) is
 * package-private. Called only by {@code dev.ditspark.core.engine.TensorMemory}, which documents the contract;
 * {@code EngineBoundaryTest} keeps every other caller out.
 */
public final class EngineBridge {
    private EngineBridge() {
    }

    /** Whether the tensor is contiguous and dense (its buffer is then its memory). */
    public static boolean isContiguous(NDArray array) {
        return PyTorchLibrary.LIB.torchIsContiguous(handle(array));
    }

    /**
     * The tensor's memory as a direct buffer in native order, {@code size × itemsize} bytes; empty for an empty
     * tensor.
     *
     * @throws IllegalArgumentException not a contiguous PyTorch tensor
     */
    public static ByteBuffer memory(NDArray array) {
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
