package dev.ditspark.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    // ---- layout, proven byte by byte ----

    /** The exact bytes the writer must produce for a tiny file, spelled out by hand. */
    private static final byte[] TINY_FILE = concat(
            // u64 little-endian header length: 190 bytes of JSON + 2 spaces = 192 = 0xC0, so the
            // data section starts at 8 + 192 = 200, a multiple of 8.
            new byte[] {(byte) 0xC0, 0, 0, 0, 0, 0, 0, 0},
            ("{\"__metadata__\":{\"format\":\"pt\"},"
                    + "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
                    + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                    + "\"c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}"
                    + "  ").getBytes(StandardCharsets.US_ASCII),
            // Data ordered by element size (largest first) so each tensor is aligned:
            new byte[] {
                0, 0, 0, 0x3F,         // c: F32 scalar 0.5 = 0x3F000000
                0, 0x3C, 0, (byte) 0xC0, // b: F16 [1.0 = 0x3C00, -2.0 = 0xC000]
                1, 2, 3                // a: U8 [1, 2, 3]
            });

    private static SafetensorsWriter tinyWriter() {
        return new SafetensorsWriter(Map.of("format", "pt"))
                .addRaw("a", TensorDType.U8, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 2, 3}))
                .add("c", TensorDType.F32, new long[0], new float[] {0.5f})
                .add("b", TensorDType.F16, new long[] {2}, new float[] {1f, -2f});
    }

    @Test
    void writerProducesTheDocumentedBytes() throws IOException {
        assertEquals(211, TINY_FILE.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tinyWriter().write(out);
        assertArrayEquals(TINY_FILE, out.toByteArray());
        assertEquals(TINY_FILE.length, tinyWriter().fileSize());
    }

    @Test
    void readerDecodesHandWrittenBytes() throws IOException {
        Path p = write("tiny.safetensors", TINY_FILE);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(List.of("a", "b", "c"), List.copyOf(f.names()));
            TensorInfo a = f.info("a");
            assertEquals(new TensorInfo("a", TensorDType.U8, new long[] {3}, 208, 3), a);
            assertEquals(new TensorInfo("b", TensorDType.F16, new long[] {2}, 204, 4), f.info("b"));
            TensorInfo c = f.info("c");
            assertEquals(0, c.shape().length);
            assertEquals(1, c.numel());
            assertEquals(200, c.offset());
            assertArrayEquals(new long[] {1, 2, 3}, f.readInt64("a"));
            assertArrayEquals(new float[] {1f, -2f}, f.readFloat32("b"));
            assertArrayEquals(new double[] {1.0, -2.0}, f.readFloat64("b"));
            assertArrayEquals(new float[] {0.5f}, f.readFloat32("c"));
            ByteBuffer raw = f.readRaw("b");
            assertTrue(raw.isDirect());
            assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
            assertEquals(0, raw.position());
            assertEquals(4, raw.limit());
            assertEquals(0x3C00, raw.getShort(0));
            assertEquals((short) 0xC000, raw.getShort(2));
        }
    }

    @Test
    void readerAcceptsUnpaddedHeaderWithMetadataLastAndWhitespace() throws IOException {
        // Another writer's style: pretty-printed, unsorted, metadata at the end, no padding.
        String json = "{\n  \"z\": {\"data_offsets\": [0, 8], \"shape\": [1], \"dtype\": \"I64\"},\n"
                + "  \"__metadata__\": {\"step\": \"7\"}\n}";
        byte[] data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array();
        Path p = file("pretty.safetensors", json, data);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("step", "7"), f.metadata());
            assertArrayEquals(new long[] {-5}, f.readInt64("z"));
        }
    }

    // ---- round trips ----

    @Test
    void roundTripsEveryDtype() throws IOException {
        float[] floats = {0f, -0f, 1f, -1.5f, 1f / 3, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-40f};
        float[] halfInputs = {65504f, 6.1e-5f, 5.96e-8f, -0f, Float.POSITIVE_INFINITY, Float.NaN,
            1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 65520f, 0x1p-25f, -3 * 0x1p-25f};
        float[] halfExpected = {65504f, 1023 * 0x1p-24f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY, Float.NaN,
            1f, 1 + 0x1p-9f, Float.POSITIVE_INFINITY, 0f, -2 * 0x1p-24f};
        float[] bfInputs = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, -0f, 3.0e38f, Float.MAX_VALUE, Float.NEGATIVE_INFINITY,
            Float.NaN, 1e-40f};
        float[] bfExpected = {1f, 1 + 0x1p-6f, -0f, Float.intBitsToFloat(0x7F62_0000), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x0001_0000)};
        double[] doubles = {0, -0.0, Math.PI, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
            Double.NEGATIVE_INFINITY, 1e300};
        long[] longs = {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40};

        SafetensorsWriter w = new SafetensorsWriter()
                .add("f32", TensorDType.F32, new long[] {3, 4}, floats)
                .add("f16", TensorDType.F16, new long[] {halfInputs.length}, halfInputs)
                .add("bf16", TensorDType.BF16, new long[] {bfInputs.length}, bfInputs)
                .add("f64", new long[] {2, 2, 2}, doubles)
                .add("i64", new long[] {5}, longs)
                .addRaw("i32", TensorDType.I32, new long[] {3}, le(12).putInt(Integer.MIN_VALUE).putInt(-1)
                        .putInt(Integer.MAX_VALUE).flip())
                .addRaw("u32", TensorDType.U32, new long[] {2}, le(8).putInt(-1).putInt(7).flip())
                .addRaw("i16", TensorDType.I16, new long[] {2}, le(4).putShort(Short.MIN_VALUE).putShort((short) 5).flip())
                .addRaw("u16", TensorDType.U16, new long[] {2}, le(4).putShort((short) -1).putShort((short) 5).flip())
                .addRaw("i8", TensorDType.I8, new long[] {2}, ByteBuffer.wrap(new byte[] {-128, 127}))
                .addRaw("u8", TensorDType.U8, new long[] {2}, ByteBuffer.wrap(new byte[] {-1, 1}))
                .addRaw("bool", TensorDType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, 1}))
                .addRaw("u64", TensorDType.U64, new long[] {1}, le(8).putLong(-1).flip())
                .addRaw("e5m2", TensorDType.F8_E5M2, new long[] {1}, ByteBuffer.wrap(new byte[] {0x3C}))
                .addRaw("e4m3", TensorDType.F8_E4M3, new long[] {1}, ByteBuffer.wrap(new byte[] {0x38}))
                .addRaw("empty", TensorDType.F32, new long[] {0, 3}, ByteBuffer.allocate(0));
        Path p = dir.resolve("all.safetensors");
        w.write(p);
        assertEquals(Files.size(p), w.fileSize());

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(16, f.names().size());
            assertArrayEquals(new long[] {3, 4}, f.info("f32").shape());
            assertBitsEqual(floats, f.readFloat32("f32"));
            assertBitsEqual(halfExpected, f.readFloat32("f16"));
            assertBitsEqual(bfExpected, f.readFloat32("bf16"));
            assertArrayEquals(doubles, f.readFloat64("f64"));
            float[] narrowed = f.readFloat32("f64");
            for (int i = 0; i < doubles.length; i++) {
                assertEquals((float) doubles[i], narrowed[i]);
            }
            double[] widened = f.readFloat64("f32");
            for (int i = 0; i < floats.length; i++) {
                assertEquals((double) floats[i], widened[i]);
            }
            assertArrayEquals(longs, f.readInt64("i64"));
            assertArrayEquals(new long[] {Integer.MIN_VALUE, -1, Integer.MAX_VALUE}, f.readInt64("i32"));
            assertArrayEquals(new long[] {0xFFFF_FFFFL, 7}, f.readInt64("u32"));
            assertArrayEquals(new long[] {Short.MIN_VALUE, 5}, f.readInt64("i16"));
            assertArrayEquals(new long[] {0xFFFF, 5}, f.readInt64("u16"));
            assertArrayEquals(new long[] {-128, 127}, f.readInt64("i8"));
            assertArrayEquals(new long[] {255, 1}, f.readInt64("u8"));
            assertArrayEquals(new long[] {1, 0, 1}, f.readInt64("bool"));
            assertEquals(-1L, f.readRaw("u64").getLong(0));
            assertEquals(0x3C, f.readRaw("e5m2").get(0));
            assertEquals(0x38, f.readRaw("e4m3").get(0));
            assertEquals(0, f.readFloat32("empty").length);
            assertEquals(0, f.readRaw("empty").remaining());

            // Each tensor starts at a multiple of its element size.
            for (TensorInfo t : f.tensors().values()) {
                assertEquals(0, t.offset() % t.dtype().byteSize(), t.toString());
            }
        }
    }

    @Test
    void largeTensorsConvertAcrossChunkBoundaries() throws IOException {
        int n = 700_001; // F16: 1.4 MB, F64: 5.6 MB; neither a multiple of the 1 MiB read chunk
        float[] values = new float[n];
        double[] doubles = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = (i % 256) - 128; // exact in half and bfloat16
            doubles[i] = i * 0.25;
        }
        Path p = dir.resolve("chunks.safetensors");
        new SafetensorsWriter()
                .add("h", TensorDType.F16, new long[] {n}, values)
                .add("bf", TensorDType.BF16, new long[] {n}, values)
                .add("f", TensorDType.F32, new long[] {n}, values)
                .add("d", new long[] {n}, doubles)
                .write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(values, f.readFloat32("h"));
            assertArrayEquals(values, f.readFloat32("bf"));
            assertArrayEquals(values, f.readFloat32("f"));
            assertArrayEquals(doubles, f.readFloat64("d"));
        }
    }

    @Test
    void metadataRoundTrips() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("quote\"and\\backslash", "line\nbreak\ttab");
        meta.put("unicode ✓ κλειδί", "値 🚀");
        meta.put("empty", "");
        Path p = dir.resolve("meta.safetensors");
        new SafetensorsWriter(meta).add("x", new long[] {1}, new long[] {42}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(meta, f.metadata());
        }
        Path none = dir.resolve("nometa.safetensors");
        new SafetensorsWriter().add("x", new long[] {1}, new long[] {42}).write(none);
        try (SafetensorsFile f = SafetensorsFile.open(none)) {
            assertTrue(f.metadata().isEmpty());
        }
        assertFalse(new String(Files.readAllBytes(none), StandardCharsets.UTF_8).contains("__metadata__"));
    }

    @Test
    void emptyFileHasNoTensors() throws IOException {
        Path p = dir.resolve("empty.safetensors");
        new SafetensorsWriter().write(p);
        assertEquals(16, Files.size(p)); // 8 + "{}" padded to 8
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.names().isEmpty());
        }
    }

    // ---- reading errors ----

    @Test
    void missingKeyListsNearbyKeys() throws IOException {
        Path p = dir.resolve("keys.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        for (String k : List.of("blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias", "blocks.0.mlp.fc1.weight",
                "pos_embed", "x_embedder.proj.weight")) {
            w.add(k, TensorDType.F32, new long[] {1}, new float[] {1});
        }
        w.write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertFalse(f.contains("blocks.0.attn.qkv.wieght"));
            WeightFormatException e = assertThrows(WeightFormatException.class,
                    () -> f.readFloat32("blocks.0.attn.qkv.wieght"));
            assertTrue(e.getMessage().startsWith(p + ": tensor 'blocks.0.attn.qkv.wieght': no such tensor"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("blocks.0.attn.qkv.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("(of 5 tensors)"), e.getMessage());
            assertEquals("blocks.0.attn.qkv.wieght", e.key());
            assertEquals(p.toString(), e.file());
        }
    }

    @Test
    void wrongDtypeForReaderIsNamed() throws IOException {
        Path p = dir.resolve("types.safetensors");
        new SafetensorsWriter()
                .add("ids", new long[] {1}, new long[] {1})
                .add("w", TensorDType.F32, new long[] {1}, new float[] {1})
                .addRaw("big", TensorDType.U64, new long[] {1}, ByteBuffer.allocate(8))
                .write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readFloat32("ids")),
                    p + ": tensor 'ids': dtype I64 cannot be read by readFloat32");
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readInt64("w")),
                    p + ": tensor 'w': dtype F32 cannot be read by readInt64");
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readInt64("big")), "U64");
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readFloat64("ids")), "readFloat64");
        }
    }

    @Test
    void rangeReadsAndClose() throws IOException {
        Path p = dir.resolve("range.safetensors");
        new SafetensorsWriter().add("x", new long[] {4}, new long[] {10, 20, 30, 40}).write(p);
        SafetensorsFile f = SafetensorsFile.open(p);
        ByteBuffer dst = le(16);
        f.readRaw("x", 16, dst);
        assertEquals(30, dst.getLong(0));
        assertEquals(40, dst.getLong(8));
        assertThrows(IndexOutOfBoundsException.class, () -> f.readRaw("x", 24, le(16)));
        assertThrows(IndexOutOfBoundsException.class, () -> f.readRaw("x", -1, le(1)));
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> f.readInt64("x"));
        assertEquals(new TensorInfo("x", TensorDType.I64, new long[] {4}, f.info("x").offset(), 32), f.info("x"));
    }

    /** Any positional source works, and its display name is what errors quote. */
    @Test
    void openFromCustomSource() throws IOException {
        AtomicBoolean closed = new AtomicBoolean();
        RandomAccessSource memory = new RandomAccessSource() {
            @Override
            public long size() {
                return TINY_FILE.length;
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                if (position + dst.remaining() > TINY_FILE.length) {
                    throw new EOFException();
                }
                dst.put(TINY_FILE, (int) position, dst.remaining());
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
        try (SafetensorsFile f = SafetensorsFile.open(memory, "hdfs://nn/models/tiny.safetensors")) {
            assertArrayEquals(new long[] {1, 2, 3}, f.readInt64("a"));
            assertMessage(assertThrows(WeightFormatException.class, () -> f.info("nope")),
                    "hdfs://nn/models/tiny.safetensors: tensor 'nope'");
        }
        assertTrue(closed.get());
    }

    // ---- malformed files: each fails at open, naming the file and key ----

    @Test
    void tooShortForLengthField() throws IOException {
        Path p = write("short.safetensors", new byte[] {1, 0, 0});
        assertOpenFails(p, "truncated", "only 3 bytes");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        byte[] bytes = new byte[20];
        bytes[0] = 100; // claims a 100-byte header
        assertOpenFails(write("hlen.safetensors", bytes), "truncated", "header length 100 exceeds the 12 bytes");
        byte[] huge = {0, 0, 0, 0, 0, 0, 0, (byte) 0xFF}; // u64 above 2^63
        assertOpenFails(write("hlen2.safetensors", huge), "header length 18374686479671623680 exceeds");
    }

    @Test
    void invalidJson() throws IOException {
        assertOpenFails(file("json.safetensors", "{\"a\": {\"dtype\": \"F32\",", new byte[0]),
                "header is not valid UTF-8 JSON");
        assertOpenFails(file("trailing.safetensors", "{} {}", new byte[0]), "header is not valid UTF-8 JSON");
        assertOpenFails(file("array.safetensors", "[1, 2]", new byte[0]), "header is a JSON ARRAY");
        assertOpenFails(file("blank.safetensors", "    ", new byte[0]), "header is empty");
        assertOpenFails(file("dup.safetensors", "{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
                + " \"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", new byte[2]),
                "Duplicate field 'a'");
        byte[] badUtf8 = concat(lengthField(4), new byte[] {'{', (byte) 0xC3, 0x28, '}'});
        assertOpenFails(write("utf8.safetensors", badUtf8), "header is not valid UTF-8 JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = file("dtype.safetensors", tensor("w", "F128", "[1]", 0, 16), new byte[16]);
        assertOpenFails(p, "tensor 'w': unknown dtype 'F128'", "F32");
    }

    @Test
    void malformedEntries() throws IOException {
        assertOpenFails(file("e1.safetensors", "{\"w\": [1]}", new byte[0]), "tensor 'w': entry must be an object");
        assertOpenFails(file("e2.safetensors", "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4]),
                "tensor 'w': missing 'dtype'");
        assertOpenFails(file("e3.safetensors", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", new byte[4]),
                "tensor 'w': missing 'shape'");
        assertOpenFails(file("e4.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[4]),
                "tensor 'w': missing 'data_offsets'");
        assertOpenFails(file("e5.safetensors", tensor("w", "F32", "[-1]", 0, 4), new byte[4]),
                "tensor 'w': shape must hold non-negative integers");
        assertOpenFails(file("e6.safetensors", tensor("w", "F32", "[1.5]", 0, 4), new byte[4]),
                "tensor 'w': shape must hold non-negative integers");
        assertOpenFails(file("e7.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}",
                new byte[4]), "tensor 'w': data_offsets must be an array of 2");
        assertOpenFails(file("e8.safetensors", "{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}",
                new byte[4]), "tensor 'w': dtype must be a string");
        assertOpenFails(file("e9.safetensors", tensor("w", "F32", "[1]", 4, 0), new byte[4]),
                "tensor 'w': data_offsets [4, 0] end before they begin");
        assertOpenFails(file("e10.safetensors", tensor("w", "F32", "[4294967296, 4294967296]", 0, 4), new byte[4]),
                "tensor 'w': element count overflows");
        assertOpenFails(file("e11.safetensors",
                "{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 18446744073709551615]}}",
                new byte[1]), "tensor 'w': data_offsets must hold non-negative integers");
    }

    @Test
    void spanMustMatchShapeTimesDtype() throws IOException {
        Path p = file("span.safetensors", tensor("w", "F32", "[2, 3]", 0, 20), new byte[20]);
        assertOpenFails(p, "tensor 'w': data_offsets [0, 20] span 20 bytes but F32[2, 3] needs 24");
    }

    @Test
    void overlappingTensors() throws IOException {
        String json = "{" + body("a", "F32", "[2]", 0, 8) + "," + body("b", "F32", "[2]", 4, 12) + "}";
        assertOpenFails(file("overlap.safetensors", json, new byte[12]),
                "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
    }

    @Test
    void holeInDataSection() throws IOException {
        String json = "{" + body("a", "F32", "[1]", 0, 4) + "," + body("b", "F32", "[1]", 8, 12) + "}";
        assertOpenFails(file("hole.safetensors", json, new byte[12]),
                "tensor 'b': data_offsets [8, 12] leave a hole of 4 bytes after tensor 'a'");
    }

    @Test
    void trailingBytesAfterLastTensor() throws IOException {
        assertOpenFails(file("tail.safetensors", tensor("a", "F32", "[1]", 0, 4), new byte[6]),
                "2 trailing bytes after the last tensor");
    }

    @Test
    void offsetsPastEndOfData() throws IOException {
        String json = "{" + body("a", "F32", "[1]", 0, 4) + "," + body("b", "F32", "[1]", 4, 8) + "}";
        assertOpenFails(file("range.safetensors", json, new byte[4]),
                "tensor 'b': file is truncated: data_offsets end at 8 but the data section has only 4 bytes");
    }

    @Test
    void badMetadata() throws IOException {
        assertOpenFails(file("m1.safetensors", "{\"__metadata__\": {\"epoch\": 3}}", new byte[0]),
                "__metadata__: value of 'epoch' must be a string, found NUMBER 3");
        assertOpenFails(file("m2.safetensors", "{\"__metadata__\": [\"x\"]}", new byte[0]),
                "__metadata__: must be an object of strings");
    }

    @Test
    void truncatedFileFailsAtOpen() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafetensorsWriter()
                .add("a", TensorDType.F32, new long[] {1000}, new float[1000])
                .add("b", TensorDType.F32, new long[] {10}, new float[10])
                .write(good);
        byte[] bytes = Files.readAllBytes(good);
        for (int cut : new int[] {1, 40, 4000}) {
            Path p = write("cut" + cut + ".safetensors", java.util.Arrays.copyOf(bytes, bytes.length - cut));
            assertOpenFails(p, "truncated");
        }
        // Cut inside the header itself.
        assertOpenFails(write("cuthdr.safetensors", java.util.Arrays.copyOf(bytes, 30)), "truncated");
    }

    @Test
    void failedOpenClosesTheSource() throws IOException {
        AtomicBoolean closed = new AtomicBoolean();
        RandomAccessSource tooShort = new RandomAccessSource() {
            @Override
            public long size() {
                return 4;
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                throw new EOFException();
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
        assertThrows(WeightFormatException.class, () -> SafetensorsFile.open(tooShort, "mem"));
        assertTrue(closed.get());
    }

    // ---- offsets beyond 2 GiB, cheaply: a sparse file ----

    @Test
    void sparseFileBeyondTwoGiB() throws IOException {
        long filler = (1L << 31) + 8;
        String json = "{" + body("filler", "U8", "[" + filler + "]", 0, filler) + ","
                + body("tail", "F32", "[2]", filler, filler + 8) + "}";
        Path p = file("sparse.safetensors", json, new byte[0]);
        long dataStart = Files.size(p);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(dataStart + filler + 8); // sparse: no disk blocks for the zeros
            raf.seek(dataStart + filler - 1);
            raf.write(0x7F); // last filler byte
            raf.write(le(8).putFloat(1.25f).putFloat(-3f).array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1.25f, -3f}, f.readFloat32("tail"));
            assertTrue(f.info("tail").offset() > Integer.MAX_VALUE);
            ByteBuffer end = ByteBuffer.allocate(2);
            f.readRaw("filler", filler - 2, end);
            assertArrayEquals(new byte[] {0, 0x7F}, end.array());
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readRaw("filler")),
                    p + ": tensor 'filler': 2147483656 bytes is more than one ByteBuffer holds");
            assertMessage(assertThrows(WeightFormatException.class, () -> f.readInt64("filler")),
                    p + ": tensor 'filler': 2147483656 elements do not fit one Java array");
        }
    }

    // ---- helpers ----

    private void assertOpenFails(Path p, String... fragments) {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                f.names();
            }
        });
        assertTrue(e.getMessage().startsWith(p + ": "), "message must name the file: " + e.getMessage());
        for (String fragment : fragments) {
            assertMessage(e, fragment);
        }
    }

    private static void assertMessage(Throwable e, String fragment) {
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    private static String body(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape
                + ", \"data_offsets\": [" + begin + ", " + end + "]}";
    }

    private static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "{" + body(name, dtype, shape, begin, end) + "}";
    }

    /** A file from a header written by hand (unpadded) and raw data bytes. */
    private Path file(String name, String json, byte[] data) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return write(name, concat(lengthField(header.length), header, data));
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static byte[] lengthField(long n) {
        return le(8).putLong(n).array();
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i])) {
                assertTrue(Float.isNaN(actual[i]), "index " + i + ": " + actual[i]);
            } else {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                        "index " + i + ": expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
