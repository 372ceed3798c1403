package dev.ditspark.core.collective;

import ai.djl.ndarray.types.DataType;
import dev.ditspark.core.config.FloatType;

/**
 * The type gradients travel in during an allreduce ({@code collective.allreduce_dtype}). {@code FP32} sums in
 * float32 and divides by the world size (exact, the default). {@code FP16} and {@code BF16} halve the bytes
 * moved: each value is divided by the world size in float32, rounded to the 16-bit type, summed in it (each
 * hop adds in float32 and rounds back, as NCCL does) and widened back to float32, as PyTorch DDP's
 * {@code fp16_compress_hook} / {@code bf16_compress_hook}. bf16 keeps float32's range with 8 mantissa bits;
 * fp16 has 11 bits but overflows past 65504 and flushes below 6e-8.
 */
public enum AllreduceDtype {
    FP32(FloatType.FLOAT32, 4, DataType.FLOAT32),
    FP16(FloatType.FLOAT16, 2, DataType.FLOAT16),
    BF16(FloatType.BFLOAT16, 2, DataType.BFLOAT16);

    private final FloatType type;
    private final int bytes;
    private final DataType dataType;

    AllreduceDtype(FloatType type, int bytes, DataType dataType) {
        this.type = type;
        this.bytes = bytes;
        this.dataType = dataType;
    }

    /** collective.allreduce_dtype: float32, float16 or bfloat16, in any {@link FloatType} spelling (fp16, bf16...). */
    public static AllreduceDtype parse(String name) {
        FloatType t = FloatType.parse(name, "collective.allreduce_dtype");
        for (AllreduceDtype d : values()) {
            if (d.type == t) {
                return d;
            }
        }
        throw new IllegalStateException(t.toString());
    }

    /** float32, float16 or bfloat16 ({@link FloatType#id()}). */
    public String configName() {
        return type.id();
    }

    /** Bytes per element on the wire. */
    public int bytes() {
        return bytes;
    }

    /** The DJL type of a tensor cast for the wire. */
    public DataType dataType() {
        return dataType;
    }

    /** float32 → this type's bits, round to nearest even (NaN stays NaN, overflow becomes ±Inf). */
    public short encode(float f) {
        return this == BF16 ? HalfFloats.toBf16(f) : HalfFloats.toFp16(f);
    }

    /** This type's bits → float32 (exact). */
    public float decode(short h) {
        return this == BF16 ? HalfFloats.fromBf16(h) : HalfFloats.fromFp16(h);
    }
}
