package dev.ditspark.core.collective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.TensorMemory;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/**
 * bfloat16 wire buffers for the nccl backend without a bfloat16 tensor type: DJL 0.36's JNI library has no
 * bfloat16 (creating or casting to one aborts the process), so the bits are moved instead. A bf16 value is the
 * upper half of a float32 whose low 16 bits are zero: the float32 is first rounded to 8 significant bits on the
 * device (Veltkamp's split, p = x·(2^16 + 1), hi = p − (p − x): round to nearest, ties not always to even), then
 * {@code cudaMemcpy2DAsync} gathers the upper halves (byte 2 of every 4, little-endian) into a 2-byte-per-element
 * buffer, which NCCL reduces as {@code ncclBfloat16}; widening scatters them back over zeroed float32s, exactly.
 * All on CUDA's legacy default stream, libtorch's, so the copies are ordered with the kernels around them.
 * Values beyond ±5e33 overflow the split and come back NaN (the finiteness check then stops the step).
 * GPU only; not run on this project's CPU machines (tools/gpu-check.sh exercises it).
 */
final class Bf16OnDevice {
    private static final float SPLIT = 65537f; // 2^(24 − 8) + 1

    private Bf16OnDevice() {
    }

    /** x (float32, contiguous, on a GPU) rounded to bf16: its bits in a 2-byte-element tensor on {@code manager}. */
    static NDArray narrow(NDArray x, NDManager manager) {
        if (x.size() == 0) {
            return manager.zeros(new Shape(0), DataType.FLOAT16);
        }
        NDManager m = x.getManager();
        try (NDArray c = m.full(new Shape(), SPLIT, DataType.FLOAT32);
                NDArray p = x.mul(c);
                NDArray pMinusX = p.sub(x);
                NDArray rounded = p.sub(pMinusX)) {
            NDArray box = manager.zeros(new Shape(x.size()), DataType.FLOAT16); // storage for the bf16 bits
            copy2d(TensorMemory.view(box), 0, 2, TensorMemory.view(rounded), 2, 4, x.size());
            return box;
        }
    }

    /** target (float32) = the bf16 values of {@code box}, exactly: zero the floats, then write their upper halves. */
    static void widenInto(NDArray box, NDArray target) {
        BytePointer dst = new BytePointer(TensorMemory.view(target));
        check(cudart.cudaMemsetAsync(dst, 0, 4L * target.size(), (CUstream_st) null), "cudaMemsetAsync");
        copy2d(TensorMemory.view(target), 2, 4, TensorMemory.view(box), 0, 2, target.size());
    }

    /** {@code n} 2-byte items from src + srcOffset every srcPitch bytes to dst + dstOffset every dstPitch bytes. */
    private static void copy2d(java.nio.ByteBuffer dst, long dstOffset, long dstPitch, java.nio.ByteBuffer src,
            long srcOffset, long srcPitch, long n) {
        BytePointer d = new BytePointer(dst).position(dstOffset);
        BytePointer s = new BytePointer(src).position(srcOffset);
        check(cudart.cudaMemcpy2DAsync(d, dstPitch, s, srcPitch, 2, n, cudart.cudaMemcpyDeviceToDevice,
                (CUstream_st) null), "cudaMemcpy2DAsync");
    }

    private static void check(int rc, String call) {
        if (rc != cudart.cudaSuccess) {
            throw new CollectiveException(call + " failed: " + cudart.cudaGetErrorString(rc).getString());
        }
    }
}
