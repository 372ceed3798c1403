package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming reader on a dataset larger than its budget: 640 rows of 4×16×16 float32 (16 KiB per row, 10 MiB)
 * in 32 shards of one 20-row group each, read with a 4 MiB budget.
 */
class LatentStreamTest {

    @TempDir
    static Path dir;

    static String uri;
    static List<LatentRecord> recs;
    static final long MIB = 1 << 20;

    static DatasetManifest layout() {
        return DatasetManifest.describe(4, 16, 16, LatentDType.FLOAT32, "test-vae", 0.18215, 128, List.of("a", "b", "c", "d", "e"),
                "unit test");
    }

    static List<LatentRecord> write(String to, int rows, int rowsPerShard, CompressionCodecName codec) throws Exception {
        List<LatentRecord> r = LatentDatasetTest.records(rows, 4 * 16 * 16, 11);
        try (LatentShardWriter w = LatentShardWriter.to(to, layout()).rowsPerShard(rowsPerShard).compression(codec).open()) {
            for (LatentRecord x : r) {
                w.write(x);
            }
        }
        return r;
    }

    @BeforeAll
    static void writeData() throws Exception {
        uri = dir.resolve("big").toUri().toString();
        recs = write(uri, 640, 20, CompressionCodecName.SNAPPY);
    }

    private static LatentStream open(int streams, int rank, int world, int globalBatch, long budget) throws Exception {
        return LatentStream.open(LatentDataset.open(uri), 5, streams, rank, world, globalBatch, budget);
    }

    @Test
    void eachEpochDealsEveryRowToExactlyOneStream() throws Exception {
        try (LatentStream s = open(4, 0, 4, 16, 4 * MIB)) {
            assertEquals(160, s.shareSize());
            assertEquals(32, s.rowGroupCount());
            List<long[]> epochs = new ArrayList<>();
            for (int epoch = 0; epoch < 3; epoch++) {
                Set<Long> seen = new HashSet<>();
                long[] all = new long[0];
                for (int stream = 0; stream < 4; stream++) {
                    long[] o = s.order(epoch, stream);
                    assertEquals(160, o.length);
                    for (long row : o) {
                        assertTrue(seen.add(row), "row " + row + " twice in epoch " + epoch);
                    }
                    all = concat(all, o);
                }
                assertEquals(640, seen.size());
                epochs.add(all);
            }
            assertFalse(Arrays.equals(epochs.get(0), epochs.get(1)));
            assertFalse(Arrays.equals(epochs.get(1), epochs.get(2)));
            // A function of the seed and epoch alone: another reader (another worker) plans the same order.
            try (LatentStream again = open(4, 3, 4, 16, 4 * MIB)) {
                assertArrayEquals(s.order(1, 2), again.order(1, 2));
            }
            try (LatentStream otherSeed = LatentStream.open(LatentDataset.open(uri), 6, 4, 0, 4, 16, 4 * MIB)) {
                assertFalse(Arrays.equals(s.order(0, 0), otherSeed.order(0, 0)));
            }
        }
    }

    @Test
    void theStreamYieldsThePlannedRowsAndHoldsNoMoreThanItsBudget() throws Exception {
        long budget = 4 * MIB;
        try (LatentStream s = open(1, 0, 1, 8, budget).start(DataCursor.START)) {
            long datasetBytes = 640L * 4 * layout().bytesPerArray();
            assertTrue(datasetBytes > 2 * budget, datasetBytes + " bytes of arrays against a budget of " + budget);
            assertTrue(s.windowRows() < s.shareSize() / 4, s.windowRows() + " rows per window");
            long[] epoch0 = s.order(0, 0);
            long[] epoch1 = s.order(1, 0);
            for (int b = 0; b < 100; b++) { // 80 batches in epoch 0, then 20 of epoch 1
                LatentStream.Batch batch = s.next();
                assertEquals(b < 80 ? new DataCursor(0, b * 8) : new DataCursor(1, (b - 80) * 8), batch.cursor());
                for (int i = 0; i < 8; i++) {
                    long row = batch.globalIndices()[i];
                    assertEquals(b < 80 ? epoch0[b * 8 + i] : epoch1[(b - 80) * 8 + i], row);
                    LatentRecord want = recs.get((int) row);
                    assertEquals(want.label(), batch.samples()[i].label());
                    assertArrayEquals(want.mean(), batch.samples()[i].mean(), 0f);
                    assertArrayEquals(want.stdFlip(), batch.samples()[i].stdFlip(), 0f);
                }
            }
            assertTrue(s.peakHeldBytes() > 0);
            assertTrue(s.peakHeldBytes() <= budget, s.peakHeldBytes() + " bytes held, budget " + budget);
        }
    }

    /**
     * Batches large enough to be decoded on several threads ({@link LatentStream#DECODE_THREADS}), whose rows
     * straddle window boundaries (a window's buffer goes back to the reader once the next one is asked for): every
     * sample is still the planned row's, all four arrays of it.
     */
    @Test
    void largeBatchesAcrossWindowBoundariesDecodeThePlannedRows() throws Exception {
        try (LatentStream s = open(1, 0, 1, 96, 4 * MIB).start(DataCursor.START)) {
            assertNotEquals(0, s.windowRows() % 96, s.windowRows() + " rows per window: some batch spans two");
            assertTrue(s.windowsPerEpoch() > 2, s.windowsPerEpoch() + " windows");
            for (int b = 0; b < 12; b++) { // 6 batches of 96 in epoch 0 (640 rows), then 6 of epoch 1
                LatentStream.Batch batch = s.next();
                int epoch = b / 6;
                long[] order = s.order(epoch, 0);
                for (int i = 0; i < 96; i++) {
                    long row = batch.globalIndices()[i];
                    assertEquals(order[(b % 6) * 96 + i], row);
                    LatentRecord want = recs.get((int) row);
                    LatentSubset.Sample got = batch.samples()[i];
                    assertEquals(want.label(), got.label());
                    assertArrayEquals(want.mean(), got.mean(), 0f, "batch " + b + " sample " + i);
                    assertArrayEquals(want.std(), got.std(), 0f);
                    assertArrayEquals(want.meanFlip(), got.meanFlip(), 0f);
                    assertArrayEquals(want.stdFlip(), got.stdFlip(), 0f);
                }
            }
        }
    }

    /**
     * Told each sample's orientation (as the trainer's per-sample coin decides it), the stream decodes that pair of
     * arrays exactly and leaves the other undecoded; asking a sample for the other pair fails instead of giving
     * wrong floats. Batches span windows and decoder threads as above.
     */
    @Test
    void toldTheOrientationTheStreamDecodesOnlyThatPair() throws Exception {
        java.util.function.LongPredicate mirrored = row -> Long.hashCode(row * 0x9E3779B97F4A7C15L) % 3 == 0;
        int mirroredSeen = 0;
        try (LatentStream s = open(1, 0, 1, 96, 4 * MIB).start(DataCursor.START)) {
            for (int b = 0; b < 6; b++) {
                LatentStream.Batch batch = s.next(mirrored);
                for (int i = 0; i < 96; i++) {
                    long row = batch.globalIndices()[i];
                    LatentRecord want = recs.get((int) row);
                    LatentSubset.Sample got = batch.samples()[i];
                    boolean flip = mirrored.test(row);
                    mirroredSeen += flip ? 1 : 0;
                    assertEquals(want.label(), got.label());
                    assertArrayEquals(flip ? want.meanFlip() : want.mean(), got.mean(flip), 0f, "batch " + b + " sample " + i);
                    assertArrayEquals(flip ? want.stdFlip() : want.std(), got.std(flip), 0f);
                    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                            () -> got.mean(!flip));
                    assertTrue(e.getMessage().contains("were not decoded"), e.getMessage());
                }
            }
        }
        assertTrue(mirroredSeen > 100 && mirroredSeen < 300, mirroredSeen + " of 576 mirrored: both kinds were drawn");
    }

    @Test
    void oneStreamWithinItsBudgetReadsTheDatasetOnceAndReshufflesIt() throws Exception {
        try (LatentStream s = open(1, 0, 1, 16, 64 * MIB).start(new DataCursor(1, 32))) {
            assertTrue(s.resident());
            assertEquals(640, s.windowRows());
            for (int b = 0; b < 100; b++) { // from batch 2 of epoch 1 into epoch 3
                int epoch = 1 + (b + 2) / 40;
                int at = (b + 2) % 40 * 16;
                LatentStream.Batch batch = s.next();
                assertEquals(new DataCursor(epoch, at), batch.cursor());
                assertArrayEquals(Arrays.copyOfRange(s.order(epoch, 0), at, at + 16), batch.globalIndices(), "batch " + b);
                for (int i = 0; i < 16; i++) {
                    assertArrayEquals(recs.get((int) batch.globalIndices()[i]).meanFlip(), batch.samples()[i].meanFlip(), 0f);
                }
            }
            long rows = 640L * (4 * layout().bytesPerArray() + LatentStream.ROW_OVERHEAD);
            // The dataset once and the two epoch orders; no second buffer.
            assertTrue(s.heldBytes() <= rows + 2 * 4 * 640, s.heldBytes() + " bytes held, dataset rows " + rows);
            assertTrue(s.peakHeldBytes() <= 64 * MIB);
        }
        assertFalse(open(1, 0, 1, 16, 4 * MIB).resident(), "larger than its budget");
        assertFalse(open(2, 0, 1, 16, 64 * MIB).resident(), "two streams deal other rows each epoch");
    }

    @Test
    void twoWorkersDrawTheGlobalBatchesOfOneWorkerWithTwoStreams() throws Exception {
        try (LatentStream one = open(2, 0, 1, 16, 8 * MIB).start(DataCursor.START);
                LatentStream r0 = open(2, 0, 2, 16, 4 * MIB).start(DataCursor.START);
                LatentStream r1 = open(2, 1, 2, 16, 4 * MIB).start(DataCursor.START)) {
            assertEquals(one.windowRows(), r0.windowRows());
            assertTrue(one.windowRows() < one.shareSize(), "more than one window per epoch");
            for (int b = 0; b < 50; b++) { // 40 batches per epoch: into the second
                long[] whole = one.next().globalIndices();
                assertArrayEquals(whole, concat(r0.next().globalIndices(), r1.next().globalIndices()), "batch " + b);
            }
        }
    }

    @Test
    void resumingFromACursorMidWindowContinuesTheSameBatches() throws Exception {
        List<long[]> straight = new ArrayList<>();
        List<DataCursor> cursors = new ArrayList<>();
        try (LatentStream s = open(1, 0, 1, 8, 4 * MIB).start(DataCursor.START)) {
            for (int b = 0; b < 95; b++) {
                LatentStream.Batch batch = s.next();
                straight.add(batch.globalIndices());
                cursors.add(batch.next());
            }
        }
        for (int at : new int[] {16, 78}) { // mid-window; the epoch's last batch
            DataCursor saved = cursors.get(at);
            try (LatentStream s = open(1, 0, 1, 8, 4 * MIB).start(saved)) {
                assertNotEquals(0, saved.position() % s.windowRows(), "mid-window");
                for (int b = at + 1; b < 95; b++) {
                    assertArrayEquals(straight.get(b), s.next().globalIndices(), "batch " + b + " after resuming at " + at);
                }
            }
        }
    }

    @Test
    void aCorruptShardFailsTheBatchThatNeedsItNamingTheFile() throws Exception {
        String bad = dir.resolve("bad").toUri().toString();
        List<LatentRecord> r = write(bad, 200, 20, CompressionCodecName.UNCOMPRESSED);
        Path shard = dir.resolve("bad/part-00003.parquet");
        byte[] bytes = Files.readAllBytes(shard);
        byte[] std = LatentDType.FLOAT32.encode(r.get(65).std());
        int at = -1;
        for (int i = 0; i + std.length <= bytes.length && at < 0; i++) {
            if (Arrays.equals(bytes, i, i + std.length, std, 0, std.length)) {
                at = i;
            }
        }
        assertTrue(at > 0);
        bytes[at + 13] ^= 0x10; // still a valid float: only the page CRC can tell
        Files.write(shard, bytes);
        Files.deleteIfExists(dir.resolve("bad/.part-00003.parquet.crc"));
        try (LatentStream s = LatentStream.open(LatentDataset.open(bad), 1, 1, 0, 1, 8, 64 * MIB).start(DataCursor.START)) {
            var e = assertThrows(DatasetFormatException.class, () -> {
                for (int b = 0; b < 25; b++) {
                    s.next();
                }
            });
            assertTrue(e.getMessage().contains("part-00003.parquet: corrupt or truncated shard"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void readersThatMayNeedMoreThanTheHeapAreWarnedOf() throws Exception {
        long heap = Runtime.getRuntime().maxMemory();
        long tooMuch = (long) (heap * 0.8);
        try (LatentStream s = open(1, 0, 1, 8, tooMuch).start(DataCursor.START)) {
            s.next();
            assertTrue(s.heapWarning() != null && s.heapWarning().startsWith("data.memory_mb: the data readers of 1 worker "
                    + "may hold " + (tooMuch >> 20) + " MiB"), s.heapWarning());
        }
        try (LatentStream s = open(1, 0, 1, 8, heap / 4).start(DataCursor.START)) {
            assertEquals(null, s.heapWarning()); // the first one's budget was released when it closed
        }
        assertEquals(null, LatentStream.heapWarning(2L << 30, 8, 16L << 30, 32L << 30, "spark.executor.memory"));
        assertEquals("data.memory_mb: the data readers of 8 workers may hold 16384 MiB (2048 MiB each) but the heap is "
                + "16384 MiB (spark.executor.memory), and training needs some of it too; lower data.memory_mb or raise the "
                + "heap to at least 21845 MiB", LatentStream.heapWarning(2L << 30, 8, 16L << 30, 16L << 30,
                "spark.executor.memory"));
    }

    @Test
    void aBudgetThatCannotHoldTheRowGroupsInFlightNamesTheField() throws Exception {
        var e = assertThrows(ConfigException.class, () -> open(1, 0, 1, 8, MIB));
        assertTrue(e.getMessage().startsWith("data.memory_mb: 1 MiB per worker"), e.getMessage());
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
