package dev.ditspark.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The 16-bit float codecs, checked against oracles that work in double arithmetic rather than
 * with the bit tricks under test.
 */
class TensorDTypeTest {

    private static int f16(float v) {
        return TensorDType.floatToF16(v) & 0xFFFF;
    }

    private static int bf16(float v) {
        return TensorDType.floatToBf16(v) & 0xFFFF;
    }

    @Test
    void byteSizesAndNames() {
        assertEquals(1, TensorDType.BOOL.byteSize());
        assertEquals(2, TensorDType.BF16.byteSize());
        assertEquals(4, TensorDType.U32.byteSize());
        assertEquals(8, TensorDType.U64.byteSize());
        assertEquals(TensorDType.F8_E4M3, TensorDType.fromName("F8_E4M3").orElseThrow());
        assertTrue(TensorDType.fromName("f32").isEmpty(), "names are case-sensitive");
        assertTrue(TensorDType.fromName("F128").isEmpty());
    }

    @Test
    void f16EncodesEdgeValues() {
        // Expected bits cross-checked with Python's struct format 'e' (IEEE half, ties to even).
        assertEquals(0x7BFF, f16(65504f), "max half");
        assertEquals(0x7BFF, f16(65519f), "just below the overflow midpoint");
        assertEquals(0x7C00, f16(65520f), "overflow midpoint ties to even: infinity");
        assertEquals(0x0400, f16(0x1p-14f), "min normal");
        assertEquals(0x03FF, f16(6.1e-5f), "just below min normal rounds to max subnormal");
        assertEquals(0x0001, f16(5.96e-8f), "min subnormal");
        assertEquals(0x0000, f16(0x1p-25f), "half of min subnormal ties to even zero");
        assertEquals(0x0001, f16(Math.nextUp(0x1p-25f)), "just above half of min subnormal");
        assertEquals(0x0002, f16(3 * 0x1p-25f), "1.5 subnormal ulps ties to 2");
        assertEquals(0x0400, f16(1023.5f * 0x1p-24f), "subnormal/normal boundary tie rounds up to even");
        assertEquals(0x3C00, f16(1 + 0x1p-11f), "tie to even, down");
        assertEquals(0x3C02, f16(1 + 3 * 0x1p-11f), "tie to even, up");
        assertEquals(0x3C01, f16(1 + 0x1p-11f + 0x1p-20f), "above tie rounds up");
        assertEquals(0x2E66, f16(0.1f));
        assertEquals(0x3555, f16(1f / 3));
        assertEquals(0x8000, f16(-0.0f));
        assertEquals(0x0000, f16(0.0f));
        assertEquals(0x8000, f16(-Float.MIN_VALUE), "float subnormals become signed zero");
        assertEquals(0x7C00, f16(Float.POSITIVE_INFINITY));
        assertEquals(0xFC00, f16(Float.NEGATIVE_INFINITY));
        assertEquals(0xFC00, f16(-1e10f));
        int nan = f16(Float.NaN);
        assertEquals(0x7C00, nan & 0x7C00);
        assertTrue((nan & 0x3FF) != 0, "NaN stays NaN");
        // A NaN whose payload sits only in bits that are dropped must not turn into infinity.
        assertTrue((f16(Float.intBitsToFloat(0x7F80_0001)) & 0x3FF) != 0);
    }

    @Test
    void f16DecodesEveryValueExactly() {
        for (int h = 0; h < 0x10000; h++) {
            float got = TensorDType.f16ToFloat((short) h);
            double sign = (h & 0x8000) != 0 ? -1 : 1;
            int exp = (h >>> 10) & 0x1F;
            int mant = h & 0x3FF;
            if (exp == 0x1F) {
                if (mant == 0) {
                    assertEquals(sign * Double.POSITIVE_INFINITY, got, 0, "bits " + Integer.toHexString(h));
                } else {
                    assertTrue(Float.isNaN(got), "bits " + Integer.toHexString(h));
                }
                continue;
            }
            double expected = exp == 0
                    ? sign * Math.scalb((double) mant, -24)
                    : sign * Math.scalb((double) (1024 + mant), exp - 25);
            assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(got),
                    "bits " + Integer.toHexString(h) + " -> " + got);
            // Every finite half survives float and back.
            assertEquals(h, f16(got), "round trip of " + Integer.toHexString(h));
        }
    }

    @Test
    void f16EncodingMatchesNearestHalfOracle() {
        double[] halves = new double[0x7C01]; // non-negative finite halves, then infinity as 2^16
        for (int h = 0; h < 0x7C00; h++) {
            halves[h] = TensorDType.f16ToFloat((short) h);
        }
        halves[0x7C00] = 65536.0;
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 2_000_000; i++) {
            // Half the samples concentrate on the exponents a half can represent.
            int bits = i % 2 == 0
                    ? random.nextInt()
                    : (random.nextInt() & 0x807F_FFFF) | ((95 + random.nextInt(50)) << 23);
            checkNearestHalf(halves, Float.intBitsToFloat(bits));
        }
        for (int h = 0; h < 0x7C00; h++) {
            float mid = (float) ((halves[h] + halves[h + 1]) / 2); // exact: needs 12 significant bits
            checkNearestHalf(halves, mid);
            checkNearestHalf(halves, Math.nextUp(mid));
            checkNearestHalf(halves, Math.nextDown(mid));
        }
    }

    private static void checkNearestHalf(double[] halves, float v) {
        if (Float.isNaN(v)) {
            return;
        }
        double x = Math.abs((double) v);
        int sign = v < 0 || (v == 0 && 1 / v < 0) ? 0x8000 : 0;
        int expected;
        if (x >= 65536.0) {
            expected = 0x7C00;
        } else {
            int pos = Arrays.binarySearch(halves, x);
            if (pos >= 0) {
                expected = pos;
            } else {
                int hi = -pos - 1;
                int lo = hi - 1;
                double dLo = x - halves[lo];
                double dHi = halves[hi] - x;
                expected = dLo < dHi ? lo : dHi < dLo ? hi : (lo % 2 == 0 ? lo : hi);
            }
        }
        assertEquals(sign | expected, f16(v), () -> "float " + v + " (bits "
                + Integer.toHexString(Float.floatToRawIntBits(v)) + ")");
    }

    @Test
    void bf16EncodesEdgeValues() {
        assertEquals(0x3F80, bf16(1f));
        assertEquals(0x3F80, bf16(1 + 0x1p-8f), "tie to even, down");
        assertEquals(0x3F82, bf16(1 + 3 * 0x1p-8f), "tie to even, up");
        assertEquals(0x3F81, bf16(Math.nextUp(1 + 0x1p-8f)), "above tie rounds up");
        assertEquals(0x3F81, bf16(1 + 0x1p-7f), "exactly representable");
        assertEquals(0x8000, bf16(-0.0f));
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x7F80, bf16(Float.MAX_VALUE), "past the largest bf16 midpoint rounds to infinity");
        assertEquals(0x7F7F, bf16(Float.intBitsToFloat(0x7F7F_7FFF)), "just below that midpoint");
        assertEquals(0x0001, bf16(Float.intBitsToFloat(0x0000_8001)), "subnormals round too");
        int nan = bf16(Float.intBitsToFloat(0x7F80_0001));
        assertTrue(Float.isNaN(TensorDType.bf16ToFloat((short) nan)), "low-payload NaN stays NaN");
        assertEquals(1.5f, TensorDType.bf16ToFloat((short) 0x3FC0));
        assertEquals(-2f, TensorDType.bf16ToFloat((short) 0xC000));
    }

    @Test
    void bf16EncodingMatchesNearestOracle() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 2_000_000; i++) {
            // Every other sample is an exact midpoint between two bf16 values.
            int bits = i % 2 == 0 ? random.nextInt() : (random.nextInt() & 0xFFFF_0000) | 0x8000;
            float v = Float.intBitsToFloat(bits);
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                continue;
            }
            int sign = bits & 0x8000_0000;
            int lo = (bits & 0x7FFF_FFFF) >>> 16; // truncated magnitude
            double x = Math.abs((double) v);
            double vLo = TensorDType.bf16ToFloat((short) lo);
            double vHi = lo + 1 == 0x7F80 ? Math.scalb(1.0, 128) : TensorDType.bf16ToFloat((short) (lo + 1));
            int expected = x - vLo < vHi - x ? lo : vHi - x < x - vLo ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
            assertEquals((sign >>> 16) | expected, bf16(v), "bits " + Integer.toHexString(bits));
        }
    }
}
