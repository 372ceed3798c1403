package dev.ditspark.core.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.ditspark.core.weights.TensorDType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How the float arrays of a latent dataset are stored: little-endian float16 or float32, spelled in the
 * manifest as {@code "float16"} / {@code "float32"}. The half conversion is {@link TensorDType}'s, the
 * one in the codebase.
 */
public enum LatentDType {
    FLOAT16("float16", 2),
    FLOAT32("float32", 4);

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * Every float16 bit pattern's float (256 KiB, fits a core's L2): decoding is one table load per element instead
     * of {@link TensorDType#f16ToFloat}'s branches, which made it most of a streamed row's CPU (docs/benchmarks.md,
     * "Streaming the shards"). Built from {@code f16ToFloat}, so the values are the same bits.
     */
    private static final float[] F16_TABLE = new float[1 << 16];

    static {
        for (int h = 0; h < F16_TABLE.length; h++) {
            F16_TABLE[h] = TensorDType.f16ToFloat((short) h);
        }
    }

    private final String id;
    private final int byteSize;

    LatentDType(String id, int byteSize) {
        this.id = id;
        this.byteSize = byteSize;
    }

    /** The manifest spelling. */
    @JsonValue
    public String id() {
        return id;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    @JsonCreator
    public static LatentDType fromId(String id) {
        for (LatentDType t : values()) {
            if (t.id.equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("must be \"float16\" or \"float32\", got \"" + id + "\"");
    }

    /** {@code values} as little-endian bytes of this dtype (float16 rounds to nearest even). */
    public byte[] encode(float[] values) {
        byte[] out = new byte[values.length * byteSize];
        if (this == FLOAT32) {
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        } else {
            for (int i = 0; i < values.length; i++) {
                SHORT_LE.set(out, 2 * i, TensorDType.floatToF16(values[i]));
            }
        }
        return out;
    }

    /** Decodes {@code count} elements starting at byte {@code offset} of {@code src} into {@code dst[dstOffset..]}. */
    public void decode(byte[] src, int offset, float[] dst, int dstOffset, int count) {
        if (this == FLOAT32) {
            // A bulk copy (a plain memory copy on a little-endian machine), not one VarHandle read per element.
            ByteBuffer.wrap(src, offset, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, dstOffset, count);
        } else {
            float[] table = F16_TABLE;
            for (int i = 0, o = offset; i < count; i++, o += 2) {
                dst[dstOffset + i] = table[(src[o] & 0xFF) | (src[o + 1] & 0xFF) << 8];
            }
        }
    }
}
