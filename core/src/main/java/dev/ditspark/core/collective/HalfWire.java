package dev.ditspark.core.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A bucket of float32 values turned into 16-bit wire values and back, in place in the same buffer (native
 * order): compressing walks forward (the short of element i lands at byte 2i, never past the floats not yet
 * read), expanding walks backward.
 */
final class HalfWire {
    private HalfWire() {
    }

    /** floats[0..count) → dtype(floats / world) at shorts[0..count). */
    static void compress(ByteBuffer buf, int count, int world, AllreduceDtype dtype) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.nativeOrder());
        float w = world;
        for (int i = 0; i < count; i++) {
            b.putShort(2 * i, dtype.encode(b.getFloat(4 * i) / w));
        }
    }

    /** shorts[0..count) → floats[0..count), exactly. */
    static void expand(ByteBuffer buf, int count, AllreduceDtype dtype) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.nativeOrder());
        for (int i = count - 1; i >= 0; i--) {
            b.putFloat(4 * i, dtype.decode(b.getShort(2 * i)));
        }
    }
}
