package dev.ditspark.core.data;

import java.util.PrimitiveIterator;
import java.util.stream.IntStream;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ColumnPath;
import org.apache.parquet.internal.column.columnindex.OffsetIndex;
import org.apache.parquet.internal.filter2.columnindex.ColumnIndexStore;
import org.apache.parquet.internal.filter2.columnindex.RowRanges;
import org.apache.parquet.schema.MessageType;

/**
 * Reads part of a row group: only the pages that hold the rows a piece takes, found with the shard's offset
 * index (the Parquet format's page index: per column chunk, each data page's file offset, size and first row;
 * parquet-mr writes one by default since 1.11). A streaming window that cuts a row group then reads and
 * decompresses the pages of its rows, not the whole column chunks.
 *
 * <p>{@link ParquetFileReader#readFilteredRowGroup(int, RowRanges)} returns a page store whose
 * {@code getRowIndexes()} lists the rows asked for, and {@code ColumnReadStoreImpl} then hands out Parquet's
 * {@code SynchronizingColumnReader}s: they skip the values of the first and last page that lie outside the
 * rows, so a reader's first value is the piece's first row (the caller skips nothing itself). A read asks for one
 * contiguous range only: with gaps between the rows asked for, Parquet 1.15's synchronizing reader can return a
 * value of an earlier row for the last one (apache/parquet-java#3747, fixed after 1.15.2), which needs the last row
 * to lie beyond the page the reader is on when it takes that row from its list; with one range it takes each row
 * only when it reaches it. That reader also trusts the index's row numbers, which no checksum covers, so
 * {@link #checkIndex} and {@link #checked} make an index that disagrees with the pages fail, naming the file,
 * instead of shifting rows.
 */
final class PageFilter {

    private PageFilter() {
    }

    /**
     * Whether every projected column chunk of {@code block} has an offset index; false for shards of older
     * writers (parquet-mr before 1.11, e.g. Spark 3.0/3.1), of pyarrow unless asked ({@code write_page_index=True})
     * and for row groups copied by {@code ParquetFileWriter.appendFile}, which drops the indexes. Read from the
     * footer: no I/O.
     */
    static boolean indexed(BlockMetaData block, MessageType projection) {
        int found = 0;
        for (ColumnChunkMetaData c : block.getColumns()) {
            if (projection.containsPath(c.getPath().toArray())) {
                if (c.getOffsetIndexReference() == null) {
                    return false;
                }
                found++;
            }
        }
        return found == projection.getColumns().size();
    }

    /**
     * Rows {@code [first, last]} (inclusive, numbered within the row group) as Parquet's {@link RowRanges}.
     *
     * <p>{@code RowRanges} has no public factory for one arbitrary range: its constructors are private,
     * {@code createSingle(n)} always starts at row 0, and {@code union}/{@code intersection} only combine ranges
     * that exist. {@code create(rowCount, pages, offsetIndex)} turns pages of an offset index into the rows they
     * cover, the last page ending at {@code rowCount - 1}; so an offset index of one page that starts at
     * {@code first}, in a row group of {@code last + 1} rows, describes exactly {@code [first, last]}.
     */
    static RowRanges rows(long first, long last) {
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("rows [" + first + ", " + last + "]");
        }
        OffsetIndex onePage = new OffsetIndex() {
            @Override
            public int getPageCount() {
                return 1;
            }

            @Override
            public long getOffset(int pageIndex) {
                throw new UnsupportedOperationException("describes rows, not bytes");
            }

            @Override
            public int getCompressedPageSize(int pageIndex) {
                throw new UnsupportedOperationException("describes rows, not bytes");
            }

            @Override
            public long getFirstRowIndex(int pageIndex) {
                return first;
            }
        };
        return RowRanges.create(last + 1, IntStream.of(0).iterator(), onePage);
    }

    /**
     * Checks that the offset index of each projected column of row group {@code blockIndex} is consistent with
     * the footer before any page is read by it: pages in file order inside the column chunk, first rows rising
     * from 0 below the group's row count.
     *
     * @throws DatasetFormatException naming {@code file} when it is not
     */
    static void checkIndex(String file, ParquetFileReader reader, int blockIndex, MessageType projection) {
        BlockMetaData block = reader.getRowGroups().get(blockIndex);
        ColumnIndexStore store = reader.getColumnIndexStore(blockIndex);
        for (ColumnChunkMetaData c : block.getColumns()) {
            if (!projection.containsPath(c.getPath().toArray())) {
                continue;
            }
            OffsetIndex index;
            try {
                index = store.getOffsetIndex(c.getPath());
            } catch (ColumnIndexStore.MissingOffsetIndexException e) { // listed in the footer, unreadable
                index = null;
            }
            String problem = index == null ? "cannot be read" : problem(index, c, block.getRowCount());
            if (problem != null) {
                throw new DatasetFormatException(file, "corrupt shard: the offset index of column '"
                        + c.getPath().toDotString() + "' in row group " + blockIndex + " " + problem
                        + "; re-run dit prepare for it");
            }
        }
    }

    /** What is wrong with {@code index} for column chunk {@code chunk} of a group of {@code rows} rows, or null. */
    static String problem(OffsetIndex index, ColumnChunkMetaData chunk, long rows) {
        int pages = index.getPageCount();
        if (pages == 0) {
            return "lists no page";
        }
        long chunkEnd = chunk.getStartingPos() + chunk.getTotalSize();
        long previousEnd = chunk.getStartingPos();
        for (int p = 0; p < pages; p++) {
            long first = index.getFirstRowIndex(p);
            boolean rising = p == 0 ? first == 0 : first > index.getFirstRowIndex(p - 1);
            if (!rising || first >= rows) {
                return "puts page " + p + " at row " + first + " of " + rows;
            }
            long offset = index.getOffset(p);
            long end = offset + index.getCompressedPageSize(p);
            if (offset < previousEnd || end <= offset || end > chunkEnd) {
                return "puts page " + p + " at bytes [" + offset + ", " + end + "), over the page before it or "
                        + "outside the column chunk [" + chunk.getStartingPos() + ", " + chunkEnd + ")";
            }
            previousEnd = end;
        }
        return null;
    }

    /**
     * {@code pages} (a filtered read of row group {@code blockIndex}) with every data page checked as it is read:
     * its value count must be the row count the offset index gives it (the training columns are not repeated,
     * so one value per row).
     */
    static PageReadStore checked(String file, int blockIndex, PageReadStore pages) {
        return new PageReadStore() {
            @Override
            public PageReader getPageReader(ColumnDescriptor column) {
                PageReader r = pages.getPageReader(column);
                return new PageReader() {
                    @Override
                    public DictionaryPage readDictionaryPage() {
                        return r.readDictionaryPage();
                    }

                    @Override
                    public long getTotalValueCount() {
                        return r.getTotalValueCount();
                    }

                    @Override
                    public DataPage readPage() {
                        DataPage page = r.readPage();
                        if (page != null && page.getIndexRowCount().isPresent()
                                && page.getIndexRowCount().get() != page.getValueCount()) {
                            throw new DatasetFormatException(file, "corrupt shard: the page of column '"
                                    + ColumnPath.get(column.getPath()).toDotString() + "' at row "
                                    + page.getFirstRowIndex().orElse(-1L) + " of row group " + blockIndex + " holds "
                                    + page.getValueCount() + " values, its offset index says "
                                    + page.getIndexRowCount().get() + " rows; re-run dit prepare for it");
                        }
                        return page;
                    }
                };
            }

            @Override
            public long getRowCount() {
                return pages.getRowCount();
            }

            @Override
            public java.util.Optional<Long> getRowIndexOffset() {
                return pages.getRowIndexOffset();
            }

            @Override
            public java.util.Optional<PrimitiveIterator.OfLong> getRowIndexes() {
                return pages.getRowIndexes();
            }

            @Override
            public void close() {
                pages.close();
            }
        };
    }
}
