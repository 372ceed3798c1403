package dev.ditspark.core.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lives in a safetensors file and how to interpret its bytes.
 *
 * @param name       the tensor's key in the header
 * @param dtype      element type
 * @param shape      dimensions, outermost first (row-major); empty for a scalar. Copied on the way
 *                   in and out, so the record stays immutable.
 * @param offset     absolute position of the tensor's first byte in the file (header included),
 *                   i.e. {@code 8 + headerLength + data_offsets[0]}
 * @param byteLength number of bytes, always {@code numel() * dtype.byteSize()}
 */
public record TensorInfo(String name, TensorDType dtype, long[] shape, long offset, long byteLength) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset + " for " + name);
        }
        long expected = byteLength(dtype, shape); // also rejects negative dims and overflow
        if (byteLength != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + byteLength
                    + " bytes given but " + dtype + Arrays.toString(shape) + " needs " + expected);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the dimensions (1 for a scalar). */
    public long numel() {
        return numel(shape);
    }

    /** Product of {@code shape}; throws on a negative dimension or on overflow. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count overflows for " + Arrays.toString(shape), e);
            }
        }
        return n;
    }

    /** Bytes a tensor of this dtype and shape occupies; throws on overflow. */
    public static long byteLength(TensorDType dtype, long[] shape) {
        try {
            return Math.multiplyExact(numel(shape), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("byte size overflows for " + dtype + Arrays.toString(shape), e);
        }
    }

    // Records compare arrays by identity; shape must compare by content.
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && offset == t.offset && byteLength == t.byteLength;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), offset, byteLength);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + Arrays.toString(shape) + " @" + offset + " (" + byteLength + " bytes)";
    }
}
