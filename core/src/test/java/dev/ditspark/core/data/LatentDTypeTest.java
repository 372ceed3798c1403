package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ditspark.core.weights.TensorDType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The table decode of float16 and the bulk decode of float32 give the same bits as element-wise conversion. */
class LatentDTypeTest {

    @Test
    void everyFloat16BitPatternDecodesAsTheScalarConversionDoes() {
        int n = 1 << 16;
        byte[] src = new byte[3 + 2 * n]; // an odd offset: the rows of a store start anywhere
        ByteBuffer le = ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < n; h++) {
            le.putShort(3 + 2 * h, (short) h);
        }
        float[] dst = new float[n + 5];
        LatentDType.FLOAT16.decode(src, 3, dst, 5, n);
        for (int h = 0; h < n; h++) {
            assertEquals(Float.floatToRawIntBits(TensorDType.f16ToFloat((short) h)), Float.floatToRawIntBits(dst[5 + h]),
                    "half 0x" + Integer.toHexString(h));
        }
        // IEEE binary16 values by hand: 1, -2, the largest normal, the smallest subnormal, -0, +inf.
        assertEquals(1.0f, dst[5 + 0x3C00]);
        assertEquals(-2.0f, dst[5 + 0xC000]);
        assertEquals(65504.0f, dst[5 + 0x7BFF]);
        assertEquals(0x1p-24f, dst[5 + 0x0001]);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(dst[5 + 0x8000]));
        assertEquals(Float.POSITIVE_INFINITY, dst[5 + 0x7C00]);
        assertEquals(true, Float.isNaN(dst[5 + 0x7E00]));
        assertEquals(0.0f, dst[4], "nothing written before dstOffset");
    }

    @Test
    void float32DecodesLittleEndianFromAnyOffset() {
        float[] values = {1.5f, -0.0f, Float.MIN_VALUE, Float.NaN, 3.4e38f, -7.25e-3f};
        byte[] enc = LatentDType.FLOAT32.encode(values);
        byte[] src = new byte[enc.length + 1];
        System.arraycopy(enc, 0, src, 1, enc.length);
        assertEquals(0x00, src[1] & 0xFF); // 1.5f = 0x3FC00000, least significant byte first
        assertEquals(0x3F, src[4] & 0xFF);
        float[] dst = new float[values.length + 2];
        LatentDType.FLOAT32.decode(src, 1, dst, 2, values.length);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(dst[2 + i]), "element " + i);
        }
    }
}
