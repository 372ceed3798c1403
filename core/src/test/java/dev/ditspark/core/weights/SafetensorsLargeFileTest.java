package dev.ditspark.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real file past 2 GiB (where DJL's own reader fails): written by streaming, read back from the
 * far end. Slow and disk-hungry, so only the e2e profile runs it; @TempDir deletes the file.
 */
@Tag("e2e")
class SafetensorsLargeFileTest {

    /** F32 elements per tensor: 1.1 GB each, 2.2 GB in all. */
    private static final int N = 275_000_000;

    /** A prime below 2^24, so every pattern value is an exact float and the pattern never aligns with chunks. */
    private static final int PERIOD = 16_777_213;

    @TempDir
    Path dir;

    private static float pattern(long i, int salt) {
        return (float) ((i * 7 + salt) % PERIOD);
    }

    @Test
    void writesAndReadsAFileLargerThanTwoGiB() throws IOException {
        long needed = 2L * N * 4 + (1L << 28);
        assumeTrue(Files.getFileStore(dir).getUsableSpace() > needed, "needs " + needed + " free bytes in " + dir);
        Path p = dir.resolve("big.safetensors");

        long t0 = System.nanoTime();
        SafetensorsWriter writer = new SafetensorsWriter(Map.of("purpose", "e2e"))
                // One tensor handed over whole, but only when the writer reaches it...
                .add("a", TensorDType.F32, new long[] {N}, () -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(N * 4).order(ByteOrder.LITTLE_ENDIAN);
                    FloatBuffer floats = buf.asFloatBuffer();
                    for (int i = 0; i < N; i++) {
                        floats.put(i, pattern(i, 1));
                    }
                    return buf;
                })
                // ...the other generated chunk by chunk, never whole in memory.
                .addStreamed("b", TensorDType.F32, new long[] {1000, N / 1000}, out -> {
                    ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                    int perChunk = chunk.capacity() / 4;
                    for (long i = 0; i < N; ) {
                        int n = (int) Math.min(perChunk, N - i);
                        chunk.clear();
                        for (int k = 0; k < n; k++) {
                            chunk.putFloat(pattern(i + k, 2));
                        }
                        out.write(chunk.array(), 0, n * 4);
                        i += n;
                    }
                });
        writer.write(p);
        long t1 = System.nanoTime();

        long size = Files.size(p);
        assertTrue(size > (1L << 31), "file is " + size + " bytes");
        assertEquals(writer.fileSize(), size);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals("e2e", f.metadata().get("purpose"));
            TensorInfo a = f.info("a");
            TensorInfo b = f.info("b");
            assertEquals(size, b.offset() + b.byteLength(), "b is last in the file");
            assertTrue(b.offset() + (N - 2) * 4L > (1L << 31), "the far-end reads really lie past 2 GiB");

            // Raw reads from the far end of each tensor.
            for (long index : new long[] {0, 123_456_789, N - 2}) {
                ByteBuffer two = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                f.readRaw("b", index * 4, two);
                assertEquals(pattern(index, 2), two.getFloat(0), "b[" + index + "]");
                assertEquals(pattern(index + 1, 2), two.getFloat(4), "b[" + (index + 1) + "]");
                two.clear();
                f.readRaw("a", index * 4, two);
                assertEquals(pattern(index, 1), two.getFloat(0), "a[" + index + "]");
            }

            // The whole last tensor, converted, every element checked.
            float[] all = f.readFloat32("b");
            assertEquals(N, all.length);
            for (int i = 0; i < N; i++) {
                if (all[i] != pattern(i, 2)) {
                    assertEquals(pattern(i, 2), all[i], "b[" + i + "]");
                }
            }
            all = null;

            // The whole first tensor as one direct buffer.
            ByteBuffer raw = f.readRaw("a");
            assertEquals(a.byteLength(), raw.remaining());
            for (int i : new int[] {0, 1, N / 2, N - 1}) {
                assertEquals(pattern(i, 1), raw.getFloat(i * 4), "a[" + i + "]");
            }
        }
        long t2 = System.nanoTime();
        System.out.printf("safetensors >2 GiB e2e: %d bytes, write %.1f s, read back %.1f s%n",
                size, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }
}
