package dev.ditspark.core.collective;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.TensorMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Tensor fusion (Horovod's name): consecutive float32 tensors packed into one host buffer of at most
 * {@code bucketBytes}, so the ring moves a few large messages instead of hundreds of small ones. A tensor
 * larger than the budget gets a bucket of its own.
 *
 * <p>CPU tensors are read and written through their own memory ({@link TensorMemory}), so a gradient is
 * updated in place (it is the parameter's {@code .grad}). Not DJL's {@code NDArray.set(Buffer)}: on the CPU
 * it makes the tensor's storage <em>point at</em> the given buffer instead of copying it. Other tensors
 * (CUDA, non-contiguous) go through a host copy and an in-place indexed assignment.
 */
final class TensorBuckets {
    private static final NDIndex ALL = new NDIndex("...");

    /** Tensors {@code [from, to)} of the list, {@code bytes} in all. */
    record Bucket(int from, int to, long bytes) {
    }

    private TensorBuckets() {
    }

    /** Splits {@code tensors} into buckets in order; every tensor must be float32. */
    static List<Bucket> plan(List<NDArray> tensors, long bucketBytes) {
        List<Bucket> buckets = new ArrayList<>();
        int from = 0;
        long bytes = 0;
        for (int i = 0; i < tensors.size(); i++) {
            NDArray t = tensors.get(i);
            if (t.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("collective: tensor " + i + " " + t.getShape() + " is "
                        + t.getDataType() + "; only float32 tensors can be reduced or broadcast");
            }
            long b = 4L * t.size();
            if (b > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("collective: tensor " + i + " " + t.getShape() + " exceeds 2 GB");
            }
            if (i > from && bytes + b > bucketBytes) {
                buckets.add(new Bucket(from, i, bytes));
                from = i;
                bytes = 0;
            }
            bytes += b;
        }
        if (from < tensors.size()) {
            buckets.add(new Bucket(from, tensors.size(), bytes));
        }
        return buckets;
    }

    /** Copies the bucket's tensors, in order, into {@code dst} from index 0. */
    static void gather(List<NDArray> tensors, Bucket bucket, ByteBuffer dst) {
        int off = 0;
        for (int i = bucket.from(); i < bucket.to(); i++) {
            NDArray t = tensors.get(i);
            int len = Math.toIntExact(4L * t.size());
            if (len == 0) {
                continue;
            }
            if (t.getDevice().isGpu()) {
                try (NDArray host = t.toDevice(Device.cpu(), false)) {
                    dst.put(off, host.toByteBuffer(false), 0, len);
                }
            } else if (TensorMemory.isContiguous(t)) {
                dst.put(off, TensorMemory.view(t), 0, len);
            } else {
                dst.put(off, t.toByteBuffer(false), 0, len); // a contiguous copy, on the Java heap
            }
            off += len;
        }
    }

    /** Writes {@code src} (from index 0) back into the bucket's tensors, in place. */
    static void scatter(ByteBuffer src, List<NDArray> tensors, Bucket bucket) {
        int off = 0;
        for (int i = bucket.from(); i < bucket.to(); i++) {
            NDArray t = tensors.get(i);
            int len = Math.toIntExact(4L * t.size());
            if (len == 0) {
                continue;
            }
            if (!t.getDevice().isGpu() && TensorMemory.isContiguous(t)) {
                TensorMemory.view(t).put(0, src, off, len);
            } else {
                assignCopy(t, src.slice(off, len).order(ByteOrder.nativeOrder()));
            }
            off += len;
        }
    }

    /** {@code t[...] = values}, outside autograd (the target may be a parameter that requires grad). */
    private static void assignCopy(NDArray t, ByteBuffer values) {
        try (NoGrad off = NoGrad.enter(); NDManager tmp = t.getManager().newSubManager(t.getDevice())) {
            t.set(ALL, tmp.create(values, t.getShape(), DataType.FLOAT32));
        }
    }
}
