package dev.ditspark.core.weights;

import java.util.Optional;

/**
 * Element types of the safetensors format, spelled as in the file header ({@link #name()}).
 *
 * <p>Also home to the 16-bit float encodings (IEEE binary16 and bfloat16), since converting them is
 * part of what a dtype means and Java 17 has no {@code Float.float16ToFloat}.
 */
public enum TensorDType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    private final int byteSize;

    TensorDType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype whose header spelling is {@code name} (case-sensitive, as the format requires). */
    public static Optional<TensorDType> fromName(String name) {
        for (TensorDType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    // ---- IEEE 754 binary16 ----

    /** Decodes an IEEE binary16 value exactly (every half is representable as a float). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            // Inf or NaN: keep the payload in the top mantissa bits so NaNs stay NaNs.
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exact in float.
            float magnitude = mant * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Encodes a float as IEEE binary16, rounding to nearest with ties to even; values at or past
     * 65520 become infinity, tiny values become subnormals or signed zero, NaN stays a (quiet) NaN.
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7F_FFFF;
        if (exp == 0xFF) {
            // Inf stays inf; NaN keeps its top payload bits and gets the quiet bit so it cannot
            // collapse into inf when the payload sat only in the low bits.
            return (short) (mant == 0 ? sign | 0x7C00 : sign | 0x7E00 | (mant >>> 13));
        }
        int halfExp = exp - 127 + 15;
        if (halfExp >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (halfExp <= 0) {
            // Result is subnormal (or zero): half = round(significand * 2^(exp - 126)).
            if (exp == 0) {
                return (short) sign; // float subnormals are far below half's smallest subnormal
            }
            int shift = 14 - halfExp; // >= 14
            if (shift > 24) {
                return (short) sign; // below half of the smallest subnormal: rounds to zero
            }
            int significand = mant | 0x80_0000;
            return (short) (sign | roundShiftRightEven(significand, shift));
        }
        // Normal: drop 13 mantissa bits; a carry out of the mantissa correctly bumps the exponent,
        // up to and including infinity (0x7BFF + 1 == 0x7C00).
        int half = (halfExp << 10) | (mant >>> 13);
        return (short) (sign | roundIncrement(half, mant & 0x1FFF, 0x1000));
    }

    private static int roundShiftRightEven(int value, int shift) {
        int kept = value >>> shift;
        int dropped = value & ((1 << shift) - 1);
        return roundIncrement(kept, dropped, 1 << (shift - 1));
    }

    private static int roundIncrement(int kept, int dropped, int halfway) {
        boolean up = dropped > halfway || (dropped == halfway && (kept & 1) != 0);
        return up ? kept + 1 : kept;
    }

    // ---- bfloat16: the top 16 bits of a float ----

    /** Decodes a bfloat16 value exactly. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Encodes a float as bfloat16, rounding to nearest with ties to even; NaN stays a quiet NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            // Rounding could carry a low-bit-only NaN payload into inf; force the quiet bit.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }
}
