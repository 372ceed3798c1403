package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.data.LatentSubset.Field;
import dev.ditspark.core.data.LatentSubset.Sample;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatentDatasetTest {

    @TempDir
    Path dir;

    private static final List<String> CLASSES = List.of("a", "b", "c", "d", "e");

    static DatasetManifest layout(LatentDType dtype) {
        return DatasetManifest.describe(2, 3, 4, dtype, "test-vae", 0.18215, 24, CLASSES, "unit test");
    }

    static List<LatentRecord> records(int n, int elements, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<LatentRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[][] a = new float[4][elements];
            for (float[] x : a) {
                for (int j = 0; j < elements; j++) {
                    x[j] = (float) (r.nextGaussian() * 3);
                }
            }
            out.add(new LatentRecord(r.nextInt(CLASSES.size()), a[0], a[1], a[2], a[3], "img/" + i + ".png"));
        }
        return out;
    }

    private String uri(String name) {
        return dir.resolve(name).toUri().toString();
    }

    private List<LatentRecord> write(String uri, LatentDType dtype, int n, int rowsPerShard) throws IOException {
        return write(uri, dtype, n, rowsPerShard, CompressionCodecName.SNAPPY);
    }

    private List<LatentRecord> write(String uri, LatentDType dtype, int n, int rowsPerShard, CompressionCodecName codec)
            throws IOException {
        List<LatentRecord> recs = records(n, 24, 7);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout(dtype)).rowsPerShard(rowsPerShard)
                .compression(codec).open()) {
            for (LatentRecord r : recs) {
                w.write(r);
            }
        }
        return recs;
    }

    @Test
    void float32RoundTripIsExactAcrossShards() throws Exception {
        String uri = uri("f32");
        List<LatentRecord> recs = write(uri, LatentDType.FLOAT32, 25, 10);
        LatentDataset ds = LatentDataset.open(uri);
        assertEquals(25, ds.size());
        assertEquals(List.of(10L, 10L, 5L), ds.manifest().shards().stream().map(DatasetManifest.Shard::rows).toList());
        assertEquals(List.of("part-00000.parquet", "part-00001.parquet", "part-00002.parquet"),
                ds.manifest().shards().stream().map(DatasetManifest.Shard::file).toList());
        LatentSubset all = ds.loadAll();
        assertEquals(25, all.size());
        for (int i = 0; i < recs.size(); i++) {
            LatentRecord want = recs.get(i);
            Sample got = all.get(i);
            assertEquals(want.label(), got.label());
            assertEquals(want.label(), all.label(i));
            assertArrayEquals(want.mean(), got.mean(), 0f);
            assertArrayEquals(want.std(), got.std(), 0f);
            assertArrayEquals(want.meanFlip(), got.meanFlip(), 0f);
            assertArrayEquals(want.stdFlip(), got.stdFlip(), 0f);
            float[] batch = new float[3 + 24];
            all.copy(i, Field.MEAN_FLIP, batch, 3);
            assertArrayEquals(want.meanFlip(), java.util.Arrays.copyOfRange(batch, 3, 27), 0f);
        }
    }

    @Test
    void float16RoundTripIsWithinHalfPrecision() throws Exception {
        String uri = uri("f16");
        List<LatentRecord> recs = write(uri, LatentDType.FLOAT16, 12, 5);
        LatentSubset all = LatentDataset.open(uri).loadAll();
        for (int i = 0; i < recs.size(); i++) {
            float[][] want = {recs.get(i).mean(), recs.get(i).std(), recs.get(i).meanFlip(), recs.get(i).stdFlip()};
            Sample s = all.get(i);
            float[][] got = {s.mean(), s.std(), s.meanFlip(), s.stdFlip()};
            for (int f = 0; f < 4; f++) {
                for (int j = 0; j < want[f].length; j++) {
                    // binary16 keeps 11 significant bits: relative error ≤ 2^-11 (values here are normal halves)
                    float w = want[f][j];
                    assertEquals(w, got[f][j], Math.abs(w) * 0x1p-11f + 0x1p-24f, "row " + i + " field " + f);
                    assertEquals(dev.ditspark.core.weights.TensorDType.f16ToFloat(
                            dev.ditspark.core.weights.TensorDType.floatToF16(w)), got[f][j], 0f);
                }
            }
        }
    }

    /** Parquet's own generic reader sees exactly the schema and bytes the format promises. */
    @Test
    void parquetsGenericReaderSeesTheDocumentedSchema() throws Exception {
        String uri = uri("generic");
        List<LatentRecord> recs = write(uri, LatentDType.FLOAT16, 7, 100);
        org.apache.hadoop.fs.Path shard = new org.apache.hadoop.fs.Path(uri, "part-00000.parquet");
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), shard).build()) {
            for (int i = 0; i < recs.size(); i++) {
                Group g = reader.read();
                MessageType schema = (MessageType) g.getType();
                assertEquals(6, schema.getFieldCount());
                assertEquals(PrimitiveTypeName.INT32, schema.getType("label").asPrimitiveType().getPrimitiveTypeName());
                for (String col : List.of("mean", "std", "mean_flip", "std_flip", "source")) {
                    Type t = schema.getType(col);
                    assertEquals(PrimitiveTypeName.BINARY, t.asPrimitiveType().getPrimitiveTypeName(), col);
                    assertTrue(t.isRepetition(Type.Repetition.REQUIRED), col);
                }
                assertTrue(schema.getType("label").isRepetition(Type.Repetition.REQUIRED));
                assertEquals(LogicalTypeAnnotation.stringType(), schema.getType("source").getLogicalTypeAnnotation());
                assertEquals(recs.get(i).label(), g.getInteger("label", 0));
                assertEquals(recs.get(i).source(), g.getString("source", 0));
                Binary mean = g.getBinary("mean", 0);
                assertEquals(24 * 2, mean.length());
                ByteBuffer le = mean.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < 24; j++) {
                    assertEquals(dev.ditspark.core.weights.TensorDType.floatToF16(recs.get(i).mean()[j]), le.getShort());
                }
            }
            assertEquals(null, reader.read());
        }
    }

    /** Latents (an encoder named) are written uncompressed, pixels (encoder "none") with snappy, unless told. */
    @Test
    void theDefaultCompressionFollowsWhatTheArraysHold() throws Exception {
        DatasetManifest pixels = DatasetManifest.describe(2, 3, 4, LatentDType.FLOAT16, DatasetManifest.NO_ENCODER, 1.0, 4,
                CLASSES, "unit test");
        Object[][] cases = {
            {layout(LatentDType.FLOAT16), null, CompressionCodecName.UNCOMPRESSED},
            {pixels, null, CompressionCodecName.SNAPPY},
            {layout(LatentDType.FLOAT16), CompressionCodecName.SNAPPY, CompressionCodecName.SNAPPY},
        };
        for (int c = 0; c < cases.length; c++) {
            String uri = uri("codec-" + c);
            DatasetManifest m = (DatasetManifest) cases[c][0];
            LatentShardWriter.Builder b = LatentShardWriter.to(uri, m);
            if (cases[c][1] != null) {
                b.compression((CompressionCodecName) cases[c][1]);
            }
            List<LatentRecord> recs = records(5, 24, 3);
            try (LatentShardWriter w = b.open()) {
                for (LatentRecord r : recs) {
                    w.write(r);
                }
            }
            org.apache.hadoop.fs.Path shard = new org.apache.hadoop.fs.Path(uri, "part-00000.parquet");
            try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                    org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(shard, new org.apache.hadoop.conf.Configuration()))) {
                for (var column : reader.getRowGroups().get(0).getColumns()) {
                    assertEquals(cases[c][2], column.getCodec(), "case " + c + ", column " + column.getPath());
                }
            }
            assertEquals(recs.get(4).label(), LatentDataset.open(uri).loadAll().label(4), "case " + c + " reads back");
        }
    }

    @Test
    void subsetsPartitionTheIndexSpaceWithEqualCounts() throws Exception {
        String uri = uri("split");
        List<LatentRecord> recs = write(uri, LatentDType.FLOAT32, 23, 4);
        LatentDataset ds = LatentDataset.open(uri).withReadThreads(3);
        for (int world : new int[] {1, 2, 3, 4, 5, 23}) {
            Set<Long> seen = new HashSet<>();
            for (int rank = 0; rank < world; rank++) {
                LatentSubset s = ds.subset(rank, world);
                assertEquals(23 / world, s.size(), "world " + world);
                for (int i = 0; i < s.size(); i++) {
                    long g = s.globalIndex(i);
                    assertTrue(seen.add(g), "row " + g + " on two ranks, world " + world);
                    // The row really is global row g: compare the contents.
                    assertArrayEquals(recs.get((int) g).mean(), s.get(i).mean(), 0f);
                    assertEquals(recs.get((int) g).label(), s.label(i));
                }
            }
            assertEquals(23 - 23 % world, seen.size());
        }
        assertThrows(IllegalArgumentException.class, () -> ds.subset(2, 2));
    }

    @Test
    void aTruncatedShardFailsNamingTheFile() throws Exception {
        String uri = uri("cut");
        write(uri, LatentDType.FLOAT32, 30, 10);
        Path shard = dir.resolve("cut/part-00001.parquet");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        Files.deleteIfExists(dir.resolve("cut/.part-00001.parquet.crc")); // test Parquet's check, not Hadoop's CRC
        LatentDataset ds = LatentDataset.open(uri);
        var e = assertThrows(DatasetFormatException.class, ds::loadAll);
        assertTrue(e.getMessage().contains("part-00001.parquet"), e.getMessage());
        // A rank whose block lies in the intact shard 0 still loads.
        assertEquals(10, ds.subset(0, 3).size());
    }

    @Test
    void aCorruptPageFailsNamingTheFile() throws Exception {
        String uri = uri("flip");
        List<LatentRecord> recs = write(uri, LatentDType.FLOAT32, 10, 10, CompressionCodecName.UNCOMPRESSED);
        Path shard = dir.resolve("flip/part-00000.parquet");
        byte[] bytes = Files.readAllBytes(shard);
        // Flip one bit of row 5's std: still a valid float, so only the page CRC can notice.
        int at = indexOf(bytes, LatentDType.FLOAT32.encode(recs.get(5).std()));
        assertTrue(at > 0);
        bytes[at + 13] ^= 0x10;
        Files.write(shard, bytes);
        Files.deleteIfExists(dir.resolve("flip/.part-00000.parquet.crc"));
        var e = assertThrows(DatasetFormatException.class, () -> LatentDataset.open(uri).loadAll());
        assertTrue(e.getMessage().contains("part-00000.parquet"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("crc"), e.getMessage());
    }

    @Test
    void aShardThatDisagreesWithTheManifestIsNamed() throws Exception {
        String uri = uri("rows");
        write(uri, LatentDType.FLOAT32, 10, 5);
        Path manifest = dir.resolve("rows/manifest.json");
        String json = Files.readString(manifest).replaceFirst("\"rows\" : 5", "\"rows\" : 6").replace("\"count\" : 10",
                "\"count\" : 11");
        Files.writeString(manifest, json);
        Files.deleteIfExists(dir.resolve("rows/.manifest.json.crc"));
        var e = assertThrows(DatasetFormatException.class, () -> LatentDataset.open(uri).loadAll());
        assertTrue(e.getMessage().contains("part-00000.parquet") && e.getMessage().contains("manifest says 6"),
                e.getMessage());
    }

    @Test
    void aMissingShardIsNamed() throws Exception {
        String uri = uri("gone");
        write(uri, LatentDType.FLOAT32, 10, 5);
        Files.delete(dir.resolve("gone/part-00001.parquet"));
        var e = assertThrows(DatasetFormatException.class, () -> LatentDataset.open(uri).loadAll());
        assertTrue(e.getMessage().contains("part-00001.parquet"), e.getMessage());
    }

    @Test
    void theManifestAppearsOnlyWhenTheWriterCloses() throws Exception {
        String uri = uri("late");
        List<LatentRecord> recs = records(9, 24, 3);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT32)).rowsPerShard(4).open()) {
            for (LatentRecord r : recs) {
                w.write(r);
            }
            assertEquals(2, w.shards().size()); // two full shards committed, the third still open
            assertTrue(Files.exists(dir.resolve("late/part-00001.parquet")));
            assertFalse(Files.exists(dir.resolve("late/part-00002.parquet")), "an open shard has no real name");
            var e = assertThrows(DatasetFormatException.class, () -> LatentDataset.open(uri));
            assertTrue(e.getMessage().contains("no manifest.json"), e.getMessage());
        }
        assertEquals(9, LatentDataset.open(uri).size());
        assertEquals(List.of(), temporaries("late"));
    }

    @Test
    void aFailedWriterLeavesNoManifestAndNoHalfShard() throws Exception {
        String uri = uri("fail");
        List<LatentRecord> recs = records(6, 24, 4);
        LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT32)).rowsPerShard(4).open();
        for (LatentRecord r : recs) {
            w.write(r);
        }
        // A malformed record is refused before any of it is written, and the writer goes on.
        var bad = new LatentRecord(1, new float[3], new float[24], new float[24], new float[24], "bad.png");
        var e = assertThrows(IllegalArgumentException.class, () -> w.write(bad));
        assertTrue(e.getMessage().contains("mean") && e.getMessage().contains("bad.png"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> w.write(new LatentRecord(5, new float[24], new float[24], new float[24], new float[24], "x")));
        w.abort();
        assertFalse(Files.exists(dir.resolve("fail/manifest.json")));
        assertEquals(List.of(), temporaries("fail"));
        assertTrue(Files.exists(dir.resolve("fail/part-00000.parquet")));
        assertFalse(Files.exists(dir.resolve("fail/part-00001.parquet")));
    }

    @Test
    void aRefusedRecordLeavesNoEmptyShard() throws Exception {
        String uri = uri("refused");
        List<LatentRecord> recs = records(4, 24, 8);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT32)).rowsPerShard(4).open()) {
            recs.forEach(r -> write(w, r));
            assertThrows(IllegalArgumentException.class,
                    () -> w.write(new LatentRecord(-1, new float[24], new float[24], new float[24], new float[24], "x")));
        }
        assertEquals(List.of(new DatasetManifest.Shard("part-00000.parquet", 4)),
                LatentDataset.open(uri).manifest().shards());
        assertEquals(List.of(), temporaries("refused"));
    }

    private static void write(LatentShardWriter w, LatentRecord r) {
        try {
            w.write(r);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anExistingDatasetIsReplacedOnlyWhenAsked() throws Exception {
        String uri = uri("again");
        write(uri, LatentDType.FLOAT32, 10, 3);
        var e = assertThrows(IOException.class, () -> LatentShardWriter.to(uri, layout(LatentDType.FLOAT32)).open());
        assertTrue(e.getMessage().contains("already holds a dataset"), e.getMessage());
        List<LatentRecord> recs = records(5, 24, 99);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT16)).overwrite(true).open()) {
            for (LatentRecord r : recs) {
                w.write(r);
            }
        }
        LatentDataset ds = LatentDataset.open(uri);
        assertEquals(5, ds.size());
        assertEquals(LatentDType.FLOAT16, ds.manifest().dtype());
        assertFalse(Files.exists(dir.resolve("again/part-00003.parquet")), "old shards are removed");
    }

    @Test
    void parallelTasksWriteShardsAndTheDriverCommitsOneManifest() throws Exception {
        String uri = uri("tasks");
        List<DatasetManifest.Shard> all = new ArrayList<>();
        List<LatentRecord> recs = records(10, 24, 5);
        for (int task = 0; task < 2; task++) {
            LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT32))
                    .shardPrefix(String.format("part-%05d", task)).writeManifest(false).rowsPerShard(3)
                    .compression(CompressionCodecName.UNCOMPRESSED).open();
            for (LatentRecord r : recs.subList(task * 5, task * 5 + 5)) {
                w.write(r);
            }
            w.close();
            all.addAll(w.shards());
            assertEquals(5, w.manifest().count());
        }
        assertFalse(Files.exists(dir.resolve("tasks/manifest.json")));
        assertEquals("part-00001-00001.parquet", all.get(3).file());
        // A re-run finds a finished shard's row count from its footer.
        assertEquals(all.get(1), LatentShardWriter.existingShard(uri, all.get(1).file(), new Configuration()));
        layout(LatentDType.FLOAT32).withShards(all).commit(uri, new Configuration());
        LatentSubset s = LatentDataset.open(uri).loadAll();
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(recs.get(i).stdFlip(), s.get(i).stdFlip(), 0f);
        }
    }

    /** The shard schema as a Spark DataFrame writes it: every column nullable (optional). */
    static final MessageType NULLABLE_SCHEMA = org.apache.parquet.schema.MessageTypeParser.parseMessageType("""
            message spark_schema {
              optional int32 label;
              optional binary mean;
              optional binary std;
              optional binary mean_flip;
              optional binary std_flip;
              optional binary source (STRING);
            }""");

    @Test
    void shardsWrittenByOthersWithOptionalColumnsAreRead() throws Exception {
        // A Spark DataFrame writes nullable (optional) columns; the reader accepts them as long as no value is null.
        MessageType optional = NULLABLE_SCHEMA;
        String uri = uri("spark");
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(uri, "part-00000.parquet");
        org.apache.parquet.hadoop.example.GroupWriteSupport.setSchema(optional, new Configuration());
        var factory = new org.apache.parquet.example.data.simple.SimpleGroupFactory(optional);
        Configuration conf = new Configuration();
        org.apache.parquet.hadoop.example.GroupWriteSupport.setSchema(optional, conf);
        List<LatentRecord> recs = records(3, 24, 11);
        try (var w = org.apache.parquet.hadoop.example.ExampleParquetWriter
                .builder(org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(file, conf))
                .withConf(conf).withType(optional).build()) {
            for (LatentRecord r : recs) {
                Group g = factory.newGroup().append("label", r.label())
                        .append("mean", Binary.fromConstantByteArray(LatentDType.FLOAT32.encode(r.mean())))
                        .append("std", Binary.fromConstantByteArray(LatentDType.FLOAT32.encode(r.std())))
                        .append("mean_flip", Binary.fromConstantByteArray(LatentDType.FLOAT32.encode(r.meanFlip())))
                        .append("std_flip", Binary.fromConstantByteArray(LatentDType.FLOAT32.encode(r.stdFlip())))
                        .append("source", r.source());
                w.write(g);
            }
        }
        layout(LatentDType.FLOAT32).withShards(List.of(new DatasetManifest.Shard("part-00000.parquet", 3)))
                .commit(uri, conf);
        LatentSubset s = LatentDataset.open(uri).loadAll();
        assertArrayEquals(recs.get(2).mean(), s.get(2).mean(), 0f);
        assertEquals(recs.get(2).label(), s.label(2));
    }

    @Test
    void ranksSkipRowGroupsOutsideTheirBlock() throws Exception {
        String uri = uri("groups");
        List<LatentRecord> recs = records(900, 24, 13);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout(LatentDType.FLOAT32)).rowsPerShard(450)
                .rowGroupBytes(48 << 10).compression(CompressionCodecName.UNCOMPRESSED).open()) {
            for (LatentRecord r : recs) {
                w.write(r);
            }
        }
        org.apache.hadoop.fs.Path shard = new org.apache.hadoop.fs.Path(uri, "part-00000.parquet");
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(shard, new Configuration()))) {
            assertTrue(reader.getRowGroups().size() >= 3, reader.getRowGroups().size() + " row groups");
        }
        LatentDataset ds = LatentDataset.open(uri);
        for (int world : new int[] {1, 7}) {
            for (int rank = 0; rank < world; rank++) {
                LatentSubset s = ds.subset(rank, world);
                for (int i = 0; i < s.size(); i++) {
                    int g = (int) s.globalIndex(i);
                    assertArrayEquals(recs.get(g).std(), s.get(i).std(), 0f, "rank " + rank + " row " + i);
                    assertEquals(recs.get(g).label(), s.label(i));
                }
            }
        }
    }

    @Test
    void aShareLargerThanOneChunkIsAddressedAcrossChunks() {
        // 3 records per chunk: records 2, 3 and 9 sit at a chunk's end, start, and in a short last chunk.
        var store = new LatentSubset.ByteStore(10, 8, 24);
        for (int i = 0; i < 10; i++) {
            store.put(i, ByteBuffer.wrap(LatentDType.FLOAT32.encode(new float[] {i, -i})));
        }
        float[] out = new float[2];
        for (int i = 0; i < 10; i++) {
            store.decode(i, LatentDType.FLOAT32, out, 0);
            assertArrayEquals(new float[] {i, -i}, out, 0f);
        }
    }

    private List<String> temporaries(String sub) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(sub))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("_") || n.startsWith("._") || n.endsWith(".tmp"))
                    .toList();
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
