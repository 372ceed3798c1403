package dev.ditspark.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    @Test
    void rejectsInconsistentTensors() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class,
                () -> w.add("x", TensorDType.F32, new long[] {2, 2}, new float[3]), "length != numel");
        assertThrows(IllegalArgumentException.class,
                () -> w.add("x", TensorDType.I32, new long[] {1}, new float[1]), "float[] as I32");
        assertThrows(IllegalArgumentException.class,
                () -> w.add("x", TensorDType.F32, new long[] {-1}, new float[0]), "negative dim");
        assertThrows(IllegalArgumentException.class,
                () -> w.addRaw("x", TensorDType.I32, new long[] {2}, ByteBuffer.allocate(7)), "byte count");
        assertThrows(IllegalArgumentException.class,
                () -> w.add("__metadata__", new long[] {1}, new long[] {1}), "reserved name");
        w.add("x", new long[] {1}, new long[] {1});
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> w.add("x", new long[] {1}, new double[] {1}));
        assertTrue(dup.getMessage().contains("'x' added twice"), dup.getMessage());
    }

    @Test
    void lazySupplierIsCalledOnlyDuringWriteAndChecked() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        SafetensorsWriter w = new SafetensorsWriter().add("lazy", TensorDType.I32, new long[] {2}, () -> {
            calls.incrementAndGet();
            ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);
            return b.putInt(7).putInt(-7).flip();
        });
        assertEquals(0, calls.get(), "not called on add");
        Path p = dir.resolve("lazy.safetensors");
        w.write(p);
        assertEquals(1, calls.get());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {7, -7}, f.readInt64("lazy"));
        }

        SafetensorsWriter wrong = new SafetensorsWriter()
                .add("bad", TensorDType.I32, new long[] {2}, () -> ByteBuffer.allocate(4));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> wrong.write(OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().contains("tensor 'bad': supplier gave 4 bytes, expected 8"), e.getMessage());
    }

    @Test
    void streamedProducerMustWriteExactly() throws IOException {
        Path p = dir.resolve("streamed.safetensors");
        new SafetensorsWriter().addStreamed("s", TensorDType.U8, new long[] {5}, out -> {
            out.write(new byte[] {1, 2});
            out.write(3);
            out.write(new byte[] {9, 4, 5, 9}, 1, 2);
            out.close(); // must not close the file
        }).add("t", new long[] {1}, new long[] {99}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {1, 2, 3, 4, 5}, f.readInt64("s"));
            assertArrayEquals(new long[] {99}, f.readInt64("t"));
        }

        SafetensorsWriter tooMuch = new SafetensorsWriter()
                .addStreamed("s", TensorDType.U8, new long[] {2}, out -> out.write(new byte[3]));
        assertThrows(IllegalStateException.class, () -> tooMuch.write(OutputStream.nullOutputStream()));
        SafetensorsWriter tooLittle = new SafetensorsWriter()
                .addStreamed("s", TensorDType.U8, new long[] {2}, out -> out.write(1));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> tooLittle.write(OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().contains("tensor 's': producer wrote 1 bytes, expected 2"), e.getMessage());
    }

    @Test
    void addRawLeavesCallerBufferAlone() throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(12);
        direct.put(new byte[] {0, 0, 0, 0}); // skipped: only remaining bytes count
        direct.put(new byte[] {1, 0, 0, 0, 2, 0, 0, 0}).position(4);
        SafetensorsWriter w = new SafetensorsWriter().addRaw("d", TensorDType.I32, new long[] {2}, direct);
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        w.write(first);
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        w.write(second);
        assertArrayEquals(first.toByteArray(), second.toByteArray(), "writing twice gives the same bytes");
        assertEquals(4, direct.position());
        Path p = Files.write(dir.resolve("raw.safetensors"), first.toByteArray());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {1, 2}, f.readInt64("d"));
        }
    }

    @Test
    void outputIsDeterministicWhateverTheMapOrder() throws IOException {
        Map<String, String> meta = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            meta.put("key" + i, "v" + i);
        }
        byte[] a = bytes(new SafetensorsWriter(meta)
                .add("z", new long[] {1}, new long[] {1})
                .add("a", TensorDType.BF16, new long[] {1}, new float[] {1}));
        byte[] b = bytes(new SafetensorsWriter(Map.copyOf(meta))
                .add("a", TensorDType.BF16, new long[] {1}, new float[] {1})
                .add("z", new long[] {1}, new long[] {1}));
        assertArrayEquals(a, b);
        long headerLength = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8, "data section 8-byte aligned");
        byte last = a[(int) (8 + headerLength - 1)];
        assertTrue(last == ' ' || last == '}', "header ends in padding or the JSON object");
    }

    @Test
    void writeToPathReplacesAtomicallyAndLeavesNoTempFiles() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Files.writeString(p, "old contents");
        new SafetensorsWriter().add("x", new long[] {1}, new long[] {5}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {5}, f.readInt64("x"));
        }
        SafetensorsWriter failing = new SafetensorsWriter().add("boom", TensorDType.U8, new long[] {1}, () -> {
            throw new IllegalStateException("source failed");
        });
        assertThrows(IllegalStateException.class, () -> failing.write(p));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {5}, f.readInt64("x"), "failed write keeps the old file");
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList());
        }
    }

    private static byte[] bytes(SafetensorsWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.write(out);
        return out.toByteArray();
    }
}
