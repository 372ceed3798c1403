package dev.ditspark.core.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ditspark.core.engine.TorchEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The wire conversions round exactly as libtorch's casts: fp16 against {@code tensor.to(float16)} through DJL;
 * bf16 against an independent oracle (the nearer of the two bf16 neighbours in double arithmetic, ties to the even
 * one), since DJL 0.36 cannot create bfloat16 tensors (its JNI library aborts the process on that type).
 */
class HalfFloatsTest {

    private static float[] values() {
        List<Float> v = new ArrayList<>(List.of(0f, -0f, 1f, -1f, 65504f, 65519f, 65520f, -65520f, 1e5f,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-14f, 0x1p-15f, 0x1p-24f,
                0x1p-25f, 0x1.8p-25f, 0x1p-26f, 3 * 0x1p-26f, 0x1.ffcp-15f, 1e-8f, 3.14159265f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1.00390625f, 1.01171875f, 1.0009765625f,
                1.0029296875f, 2049f, 2051f, 0.1f, 1f / 3));
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 20_000; i++) {
            v.add((float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-30, 20))));
            v.add(Float.intBitsToFloat(rnd.nextInt()) ); // any bit pattern, NaNs included
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    @Test
    void roundingMatchesLibtorchCasts() {
        float[] x = values();
        try (NDManager m = TorchEngine.newManager()) {
            NDArray t = m.create(x);
            for (AllreduceDtype dtype : List.of(AllreduceDtype.FP16)) {
                float[] torch = t.toType(dtype.dataType(), false).toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    float ours = dtype.decode(dtype.encode(x[i]));
                    if (Float.isNaN(torch[i])) {
                        assertEquals(Float.NaN, ours, dtype + " of " + x[i]);
                    } else {
                        assertEquals(Float.floatToIntBits(torch[i]), Float.floatToIntBits(ours),
                                dtype + " of " + x[i] + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x[i]))
                                        + "): torch " + torch[i] + ", ours " + ours);
                    }
                }
            }
        }
    }

    @Test
    void bf16RoundsToTheNearestNeighbourTiesToEven() {
        for (float x : values()) {
            float ours = AllreduceDtype.BF16.decode(AllreduceDtype.BF16.encode(x));
            if (Float.isNaN(x)) {
                assertEquals(Float.NaN, ours);
                continue;
            }
            if (Float.isInfinite(x)) {
                assertEquals(x, ours);
                continue;
            }
            int bits = Float.floatToRawIntBits(x);
            float down = Float.intBitsToFloat(bits & 0xffff0000); // toward zero
            float up = Float.intBitsToFloat((bits & 0xffff0000) + 0x10000); // away from zero (may be ±Inf)
            double dDown = Math.abs((double) x - down);
            double dUp = Float.isInfinite(up) ? Math.abs((double) x - Math.copySign(0x1p128, x)) : Math.abs((double) x - up);
            float expected;
            if (dDown < dUp) {
                expected = down;
            } else if (dUp < dDown) {
                expected = up;
            } else {
                expected = ((bits >>> 16) & 1) == 0 ? down : up;
            }
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(ours), "bf16 of " + x);
        }
    }

    @Test
    void everySixteenBitValueWidensExactly() {
        try (NDManager m = TorchEngine.newManager()) {
            for (AllreduceDtype dtype : List.of(AllreduceDtype.FP16, AllreduceDtype.BF16)) {
                boolean viaTorch = dtype == AllreduceDtype.FP16;
                float[] widened = new float[1 << 16];
                for (int h = 0; h < widened.length; h++) {
                    widened[h] = dtype.decode((short) h);
                }
                // narrowing a widened value gives it back (the round trip through libtorch too)
                float[] torch = viaTorch ? m.create(widened).toType(dtype.dataType(), false)
                        .toType(DataType.FLOAT32, false).toFloatArray() : widened;
                for (int h = 0; h < widened.length; h++) {
                    if (!Float.isNaN(widened[h])) {
                        assertEquals((short) h, dtype.encode(widened[h]), dtype + " " + Integer.toHexString(h));
                        assertEquals(widened[h], torch[h], dtype + " " + Integer.toHexString(h));
                    }
                }
            }
        }
    }
}
