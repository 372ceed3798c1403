package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.data.LatentDataset.RowGroup;
import dev.ditspark.core.testing.LogCapture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.internal.column.columnindex.OffsetIndex;
import org.apache.parquet.internal.column.columnindex.OffsetIndexBuilder;
import org.apache.parquet.internal.filter2.columnindex.RowRanges;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.MessageType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading part of a row group by its pages ({@link PageFilter} through {@link LatentDataset#readRows}): 4,000 rows of
 * 4×4×4 float32 (1 KiB of arrays per row) written by {@link LatentShardWriter} in two shards of row groups of ~1,000
 * rows, each array column cut into pages of 100 rows (8 KiB pages; Parquet checks a page's size every 100 rows): the
 * layout of a 512 px shard (row groups of ~1,000 rows, pages of 100 rows of one 32 KiB array) at 1/32 of its bytes.
 */
class PageFilterTest {

    @TempDir
    static Path dir;

    static String uri;
    static List<LatentRecord> recs;
    static RowGroup group;
    /** First rows of the pages of column 'mean' in {@link #group}. */
    static long[] pageStarts;

    static DatasetManifest layout() {
        return DatasetManifest.describe(4, 4, 4, LatentDType.FLOAT32, "test-vae", 0.18215, 32,
                List.of("a", "b", "c", "d", "e"), "unit test");
    }

    @BeforeAll
    static void writeData() throws Exception {
        uri = dir.resolve("paged").toUri().toString();
        recs = LatentDatasetTest.records(4000, 4 * 4 * 4, 21);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout()).rowsPerShard(2000).rowGroupBytes(1 << 20)
                .pageBytes(8 << 10).compression(CompressionCodecName.SNAPPY).open()) {
            for (LatentRecord r : recs) {
                w.write(r);
            }
        }
        List<RowGroup> groups = LatentDataset.open(uri).rowGroups();
        assertTrue(groups.size() >= 4, groups.size() + " row groups");
        group = groups.get(1); // not at global row 0, so positions and global rows differ
        assertTrue(group.firstGlobalRow() > 0 && group.rows() >= 500, group.toString());
        pageStarts = pageStarts(new org.apache.hadoop.fs.Path(uri, group.shard().file()), group.index(), "mean");
        assertTrue(pageStarts.length >= 8, Arrays.toString(pageStarts) + ": pages of 'mean' in " + group);
    }

    /** The first rows of the pages of {@code column} in row group {@code index}, from the shard's offset index. */
    static long[] pageStarts(org.apache.hadoop.fs.Path shard, int index, String column) throws IOException {
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(shard, new Configuration()))) {
            for (ColumnChunkMetaData c : r.getRowGroups().get(index).getColumns()) {
                if (c.getPath().toDotString().equals(column)) {
                    OffsetIndex o = r.readOffsetIndex(c);
                    long[] starts = new long[o.getPageCount()];
                    for (int p = 0; p < starts.length; p++) {
                        starts[p] = o.getFirstRowIndex(p);
                    }
                    return starts;
                }
            }
        }
        throw new AssertionError("no column " + column);
    }

    /** Rows {@code [skip, skip + take)} of {@code g}, read by {@code readRows} into a share of their own. */
    static LatentSubset read(LatentDataset ds, RowGroup g, long skip, int take) throws IOException {
        LatentSubset into = new LatentSubset(ds.manifest(), 0, 1, g.firstGlobalRow() + skip, take);
        ds.readRows(g, skip, take, into, 0);
        return into;
    }

    /** Asserts {@code got} holds rows {@code [skip, skip + n)} of {@code whole}, bit for bit, and the written records. */
    static void assertRows(LatentSubset whole, long skip, LatentSubset got, RowGroup g, String what) {
        for (int i = 0; i < got.size(); i++) {
            int w = (int) skip + i;
            String at = what + ": row " + w + " of " + g;
            LatentSubset.Sample a = whole.get(w);
            LatentSubset.Sample b = got.get(i);
            assertEquals(whole.label(w), got.label(i), at);
            assertArrayEquals(bits(a.mean()), bits(b.mean()), at);
            assertArrayEquals(bits(a.std()), bits(b.std()), at);
            assertArrayEquals(bits(a.meanFlip()), bits(b.meanFlip()), at);
            assertArrayEquals(bits(a.stdFlip()), bits(b.stdFlip()), at);
            LatentRecord want = recs.get((int) (g.firstGlobalRow() + w));
            assertEquals(want.label(), got.label(i), at);
            assertArrayEquals(bits(want.mean()), bits(b.mean()), at);
            assertArrayEquals(bits(want.stdFlip()), bits(b.stdFlip()), at);
        }
    }

    static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            b[i] = Float.floatToRawIntBits(x[i]);
        }
        return b;
    }

    /**
     * Pieces {skip, take} of a row group: its start, middle and end, one row, one whole page, pages 0 to 4, one that
     * ends on a page's first row and one that starts on a page's last row (where a synchronizing reader changes pages
     * right at the piece's edge).
     */
    static List<long[]> pieces(RowGroup g, long[] starts) {
        int rows = g.rows();
        int last = starts.length - 1;
        return List.of(
                new long[] {0, rows / 10},
                new long[] {rows / 2 - 7, 31},
                new long[] {rows - 33, 33},
                new long[] {starts[2] + 17, 1},
                new long[] {starts[1], starts[2] - starts[1]},
                new long[] {starts[1] - 5, starts[4] - starts[1] + 10},
                new long[] {starts[3] - 10, 11},
                new long[] {starts[3] - 1, 2},
                new long[] {starts[last] - 1, rows - starts[last] + 1});
    }

    @Test
    void piecesOfACutRowGroupAreTheRowsOfTheWholeRead() throws Exception {
        LatentDataset ds = LatentDataset.open(uri);
        LatentSubset whole = read(ds, group, 0, group.rows());
        for (long[] p : pieces(group, pageStarts)) {
            assertRows(whole, p[0], read(ds, group, p[0], (int) p[1]), group, "piece " + Arrays.toString(p));
        }
    }

    /**
     * A shard as a Spark DataFrame writes it: parquet-mr's writer (Spark's ParquetOutputFormat ends in the same
     * ParquetFileWriter) with nullable columns, so every value carries a definition level, and its own page layout.
     */
    @Test
    void aShardOfNullableColumnsFromAnotherParquetWriterHasAnIndexAndReadsTheSameRows() throws Exception {
        MessageType nullable = LatentDatasetTest.NULLABLE_SCHEMA;
        String other = dir.resolve("spark").toUri().toString();
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(other, "part-00000.parquet");
        Configuration conf = new Configuration();
        org.apache.parquet.hadoop.example.GroupWriteSupport.setSchema(nullable, conf);
        var groups = new org.apache.parquet.example.data.simple.SimpleGroupFactory(nullable);
        List<LatentRecord> rows = recs.subList(0, 1500);
        try (var w = org.apache.parquet.hadoop.example.ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, conf))
                .withConf(conf).withType(nullable).withRowGroupSize(1 << 20).withPageSize(8 << 10)
                // Spark's default dictionaries, scaled with the page: the arrays fall back to plain pages early, as a
                // real shard's unique arrays do once their dictionary passes 1 MiB.
                .withDictionaryPageSize(8 << 10).build()) {
            for (LatentRecord r : rows) {
                w.write(groups.newGroup().append("label", r.label())
                        .append("mean", org.apache.parquet.io.api.Binary.fromConstantByteArray(
                                LatentDType.FLOAT32.encode(r.mean())))
                        .append("std", org.apache.parquet.io.api.Binary.fromConstantByteArray(
                                LatentDType.FLOAT32.encode(r.std())))
                        .append("mean_flip", org.apache.parquet.io.api.Binary.fromConstantByteArray(
                                LatentDType.FLOAT32.encode(r.meanFlip())))
                        .append("std_flip", org.apache.parquet.io.api.Binary.fromConstantByteArray(
                                LatentDType.FLOAT32.encode(r.stdFlip())))
                        .append("source", r.source()));
            }
        }
        layout().withShards(List.of(new DatasetManifest.Shard("part-00000.parquet", rows.size()))).commit(other, conf);
        LatentDataset ds = LatentDataset.open(other);
        RowGroup g = ds.rowGroups().get(0);
        assertTrue(g.rows() >= 500 && g.rows() < rows.size(), g.toString());
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
            assertTrue(PageFilter.indexed(r.getRowGroups().get(0), LatentSchema.TRAINING_PROJECTION),
                    "parquet-mr writes an offset index");
        }
        long[] starts = pageStarts(file, 0, "std");
        assertTrue(starts.length >= 8, Arrays.toString(starts));
        LatentSubset whole = read(ds, g, 0, g.rows());
        for (long[] p : pieces(g, starts)) {
            assertRows(whole, p[0], read(ds, g, p[0], (int) p[1]), g, "piece " + Arrays.toString(p));
        }
    }

    @Test
    void oneRowRangeIsExactlyThoseRows() {
        RowRanges r = PageFilter.rows(37, 140);
        assertEquals(104, r.rowCount());
        assertEquals(1, r.getRanges().size());
        assertEquals(37, r.getRanges().get(0).from);
        assertEquals(140, r.getRanges().get(0).to);
        assertEquals(1, PageFilter.rows(0, 0).rowCount());
        assertThrows(IllegalArgumentException.class, () -> PageFilter.rows(5, 4));
    }

    /** Bytes this thread has read from the local file system (Hadoop's per-thread statistics of scheme "file"). */
    @SuppressWarnings("deprecation") // getAllStatistics: the per-thread figures have no newer API
    static long bytesRead() {
        long n = 0;
        for (FileSystem.Statistics s : FileSystem.getAllStatistics()) {
            if ("file".equals(s.getScheme())) {
                n += s.getThreadStatistics().getBytesRead();
            }
        }
        return n;
    }

    static long bytesToRead(LatentDataset ds, RowGroup g, long skip, int take) throws IOException {
        long before = bytesRead();
        read(ds, g, skip, take);
        return bytesRead() - before;
    }

    @Test
    void aPieceReadsOnlyThePagesOfItsRows() throws Exception {
        LatentDataset ds = LatentDataset.open(uri);
        long whole = bytesToRead(ds, group, 0, group.rows());
        assertTrue(whole > group.bytes() / 2, whole + " bytes read for a group of " + group.bytes());
        int tenth = group.rows() / 10;
        for (long skip : new long[] {0, group.rows() / 2 - tenth / 2, group.rows() - tenth}) {
            long piece = bytesToRead(ds, group, skip, tenth);
            assertTrue(piece < whole / 3, piece + " bytes read for rows [" + skip + ", " + (skip + tenth)
                    + "), " + whole + " for the whole group");
        }
    }

    /**
     * Copies every shard of the dataset at {@code from} to a new dataset {@code name} with the same manifest: the same
     * pages (CRCs included) and footer metadata, each column chunk's offset index replaced by
     * {@code index.apply(column, original)}; with {@code index} null, by {@code ParquetFileWriter.appendFile}, the way
     * Parquet merges files, which writes no offset index (and no column index).
     */
    static String copy(String from, String name, BiFunction<String, OffsetIndex, OffsetIndex> index) throws IOException {
        Configuration conf = new Configuration();
        String to = dir.resolve(name).toUri().toString();
        DatasetManifest m = LatentDataset.open(from).manifest();
        for (DatasetManifest.Shard s : m.shards()) {
            HadoopInputFile in = HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(from, s.file()), conf);
            try (ParquetFileReader r = ParquetFileReader.open(in); SeekableInputStream bytes = in.newStream()) {
                MessageType schema = r.getFooter().getFileMetaData().getSchema();
                ParquetFileWriter w = new ParquetFileWriter(
                        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(to, s.file()), conf), schema,
                        ParquetFileWriter.Mode.CREATE, ParquetWriter.DEFAULT_BLOCK_SIZE, 0, null,
                        ParquetProperties.builder().build());
                w.start();
                if (index == null) {
                    w.appendFile(in);
                } else {
                    for (BlockMetaData b : r.getRowGroups()) {
                        w.startBlock(b.getRowCount());
                        for (ColumnChunkMetaData c : b.getColumns()) {
                            w.appendColumnChunk(schema.getColumnDescription(c.getPath().toArray()), bytes, c, null,
                                    r.readColumnIndex(c), index.apply(c.getPath().toDotString(), r.readOffsetIndex(c)));
                        }
                        w.endBlock();
                    }
                }
                w.end(r.getFooter().getFileMetaData().getKeyValueMetaData());
            }
        }
        m.commit(to, conf);
        return to;
    }

    @Test
    void aShardWithoutOffsetIndexReadsTheSameRowsFromWholeChunks() throws Exception {
        String old = copy(uri, "no-index", null);
        LatentDataset ds = LatentDataset.open(old);
        List<RowGroup> groups = ds.rowGroups();
        assertEquals(LatentDataset.open(uri).rowGroups().size(), groups.size());
        RowGroup g = groups.get(1); // the copy of group
        assertEquals(group.firstGlobalRow(), g.firstGlobalRow());
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(old, g.shard().file()), new Configuration()))) {
            BlockMetaData b = r.getRowGroups().get(g.index());
            assertFalse(PageFilter.indexed(b, LatentSchema.TRAINING_PROJECTION), "the copy has no offset index");
            assertTrue(b.getColumns().stream().allMatch(c -> c.getOffsetIndexReference() == null));
        }
        String logger = LatentDataset.class.getName();
        org.apache.logging.log4j.Level level = org.apache.logging.log4j.LogManager.getLogger(logger).getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(logger, org.apache.logging.log4j.Level.DEBUG);
        try (LogCapture log = new LogCapture()) {
            LatentSubset whole = read(ds, g, 0, g.rows());
            for (long[] p : pieces(g, pageStarts)) {
                assertRows(whole, p[0], read(ds, g, p[0], (int) p[1]), g, "piece " + Arrays.toString(p));
            }
            read(ds, groups.get(0), 5, 10);
            // One DEBUG line for the file, however many pieces; nothing louder.
            List<String> said = log.text().lines().filter(l -> l.contains("no offset index")).toList();
            assertEquals(1, said.size(), said.toString());
            assertTrue(said.get(0).startsWith("DEBUG") && said.get(0).contains(g.shard().file()), said.get(0));
            assertTrue(log.text().lines().noneMatch(l -> l.startsWith("WARN") || l.startsWith("ERROR")), log.text());
        } finally {
            org.apache.logging.log4j.core.config.Configurator.setLevel(logger, level);
        }
        // Whole column chunks: a tenth of the group costs what the whole group does.
        long all = bytesToRead(ds, g, 0, g.rows());
        long tenth = bytesToRead(ds, g, g.rows() / 2, g.rows() / 10);
        assertTrue(tenth > all * 9 / 10, tenth + " bytes for a tenth, " + all + " for the whole group");
    }

    @Test
    void streamingWindowsThatCutRowGroupsDeliverThePlannedRowsWithAndWithoutIndex() throws Exception {
        String old = copy(uri, "no-index-stream", null);
        long budget = 5L << 20;
        try (LatentStream paged = LatentStream.open(LatentDataset.open(uri), 3, 1, 0, 1, 16, budget)
                .start(DataCursor.START);
                LatentStream whole = LatentStream.open(LatentDataset.open(old), 3, 1, 0, 1, 16, budget)
                        .start(DataCursor.START)) {
            assertFalse(paged.resident());
            assertTrue(paged.windowRows() % group.rows() != 0 && paged.windowRows() < 4000,
                    paged.windowRows() + " rows per window: windows cut row groups");
            assertEquals(paged.windowRows(), whole.windowRows());
            for (int b = 0; b < 4000 / 16 + 10; b++) { // one epoch and into the next
                LatentStream.Batch x = paged.next();
                LatentStream.Batch y = whole.next();
                assertArrayEquals(x.globalIndices(), y.globalIndices(), "batch " + b);
                for (int i = 0; i < 16; i++) {
                    LatentRecord want = recs.get((int) x.globalIndices()[i]);
                    LatentSubset.Sample got = x.samples()[i];
                    String at = "batch " + b + " sample " + i;
                    assertEquals(want.label(), got.label(), at);
                    assertArrayEquals(want.mean(), got.mean(), 0f, at);
                    assertArrayEquals(want.std(), got.std(), 0f, at);
                    assertArrayEquals(want.meanFlip(), got.meanFlip(), 0f, at);
                    assertArrayEquals(want.stdFlip(), got.stdFlip(), 0f, at);
                    assertArrayEquals(got.stdFlip(), y.samples()[i].stdFlip(), 0f, at);
                    assertEquals(got.label(), y.samples()[i].label(), at);
                }
            }
            assertTrue(paged.peakHeldBytes() <= budget, paged.peakHeldBytes() + " bytes held");
        }
    }

    /** {@code o} with the first row of page {@code page} moved by {@code by} rows. */
    static OffsetIndex shifted(OffsetIndex o, int page, long by) {
        OffsetIndexBuilder b = OffsetIndexBuilder.getBuilder();
        for (int p = 0; p < o.getPageCount(); p++) {
            b.add(o.getOffset(p), o.getCompressedPageSize(p), o.getFirstRowIndex(p) + (p == page ? by : 0));
        }
        return b.build();
    }

    @Test
    void anOffsetIndexThatDisagreesWithItsPagesFailsNamingTheFile() throws Exception {
        // Page 3 of 'std' said to start a row late: still rising, so only the pages' own counts can tell.
        String bad = copy(uri, "bad-index", (column, index) -> column.equals("std") ? shifted(index, 3, 1) : index);
        LatentDataset ds = LatentDataset.open(bad);
        RowGroup g = ds.rowGroups().get(1);
        String file = g.shard().file();
        for (long[] p : List.of(new long[] {pageStarts[3] + 2, 5}, new long[] {pageStarts[2] + 1, 3})) {
            var e = assertThrows(DatasetFormatException.class, () -> read(ds, g, p[0], (int) p[1]));
            assertTrue(e.getMessage().contains(file) && e.getMessage().contains("'std'")
                    && e.getMessage().contains("offset index"), e.getMessage());
        }
        // Pages the bad entry does not touch still read right.
        LatentSubset whole = read(ds, g, 0, g.rows());
        long[] far = {pageStarts[5] + 3, 20};
        assertRows(whole, far[0], read(ds, g, far[0], (int) far[1]), g, "far piece");

        // An index that does not start at row 0 is refused before any page is read.
        String off = copy(uri, "bad-start", (column, index) -> column.equals("mean") ? shifted(index, 0, 2) : index);
        LatentDataset ds2 = LatentDataset.open(off);
        RowGroup g2 = ds2.rowGroups().get(1);
        var e = assertThrows(DatasetFormatException.class, () -> read(ds2, g2, pageStarts[4], 10));
        assertTrue(e.getMessage().contains(file) && e.getMessage().contains("'mean'")
                && e.getMessage().contains("row group " + g2.index()), e.getMessage());
    }

    @Test
    void ranksWhoseBlocksCutRowGroupsLoadTheirRows() throws Exception {
        LatentDataset ds = LatentDataset.open(uri);
        for (int world : new int[] {3, 7}) {
            for (int rank = 0; rank < world; rank++) {
                LatentSubset s = ds.subset(rank, world);
                for (int i = 0; i < s.size(); i++) {
                    LatentRecord want = recs.get((int) s.globalIndex(i));
                    assertEquals(want.label(), s.label(i));
                    assertArrayEquals(bits(want.std()), bits(s.get(i).std()), "rank " + rank + " of " + world);
                }
            }
        }
    }
}
