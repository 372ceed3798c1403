package dev.ditspark.core.collective;

import ai.djl.ndarray.types.DataType;

/**
 * The type gradients travel in during an allreduce ({@code collective.allreduce_dtype}). {@code FP32} sums in
 * float32 and divides by the world size (exact, the default). {@code FP16} and {@code BF16} halve the bytes
 * moved: each value is divided by the world size in float32, rounded to the 16-bit type, summed in it (each
 * hop adds in float32 and rounds back, as NCCL does) and widened back to float32, as PyTorch DDP's
 * {@code fp16_compress_hook} / {@code bf16_compress_hook}. bf16 keeps float32's range with 8 mantissa bits;
 * fp16 has 11 bits but overflows past 65504 and flushes below 6e-8.
 */
public enum AllreduceDtype {
    FP32("fp32", 4, DataType.FLOAT32),
    FP16("fp16", 2, DataType.FLOAT16),
    BF16("bf16", 2, DataType.BFLOAT16);

    private final String configName;
    private final int bytes;
    private final DataType dataType;

    AllreduceDtype(String configName, int bytes, DataType dataType) {
        this.configName = configName;
        this.bytes = bytes;
        this.dataType = dataType;
    }

    /** fp32, fp16 or bf16 (collective.allreduce_dtype). */
    public static AllreduceDtype parse(String name) {
        for (AllreduceDtype d : values()) {
            if (d.configName.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("collective.allreduce_dtype: fp32, fp16 or bf16, got " + name);
    }

    public String configName() {
        return configName;
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
