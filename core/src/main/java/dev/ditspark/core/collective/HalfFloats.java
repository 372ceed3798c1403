package dev.ditspark.core.collective;

/**
 * IEEE 754 binary16 and bfloat16 conversions with round to nearest even, the rounding of
 * {@code tensor.to(torch.float16 / torch.bfloat16)} (Java 17 has no Float.floatToFloat16).
 */
final class HalfFloats {
    private HalfFloats() {
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep the sign, set a quiet bit
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    static short toFp16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00); // NaN
        }
        if (abs >= 0x477ff000) { // ≥ 65520: rounds to infinity (and ±Inf itself)
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) { // below the smallest normal fp16 (2^-14): subnormal or zero
            if (abs < 0x33000000) { // < 2^-25: rounds to zero (2^-25 exactly is a tie with 0, even → 0)
                return (short) sign;
            }
            int exp = abs >>> 23;
            int mantissa = (abs & 0x7fffff) | 0x800000;
            int shift = 126 - exp; // value = mantissa · 2^(exp − 150); fp16 subnormal unit is 2^-24
            // fp16 subnormal count = mantissa · 2^(exp − 150 + 24) = mantissa >> (126 − exp)
            int half = mantissa >>> shift;
            int rest = mantissa & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        // normal: rebias the exponent (127 → 15) and round the 23-bit mantissa to 10 bits
        int value = abs - 0x38000000; // exponent − 112
        int roundingBias = 0xfff + ((value >>> 13) & 1);
        return (short) (sign | ((value + roundingBias) >>> 13));
    }

    static float fromFp16(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exp == 0) {
            float v = mantissa * 0x1p-24f; // subnormal (or zero): exact in float32
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mantissa << 13));
    }
}
