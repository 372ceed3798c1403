package dev.ditspark.core.data;

import dev.ditspark.core.data.DatasetManifest.Shard;
import dev.ditspark.core.data.LatentSubset.ByteStore;
import dev.ditspark.core.data.LatentSubset.Field;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * A finished latent dataset, opened by its manifest; {@link #subset} loads one rank's share into memory (tools that
 * want every row); training streams it instead ({@link LatentStream}, which plans from {@link #rowGroups} and reads
 * with {@link #readRows}).
 *
 * <p>Ranks split the global index space (rows in manifest shard order) into equal contiguous blocks:
 * rank r of w holds rows {@code [r·n, (r+1)·n)} with {@code n = count / w}, and the last {@code count mod w}
 * rows belong to no rank, as PyTorch's {@code drop_last} does. Contiguous blocks let each rank read only the
 * shards its block overlaps, so the writer should store rows in random order (a Spark job that hashes its
 * input does; Fashion-MNIST's files are shuffled) or ranks get skewed label mixes.
 *
 * <p>Shards are read with Parquet's column readers (no record assembly, no {@code source} column) several
 * at a time, each straight into its place in the share; a missing, truncated or corrupt shard (pages carry
 * CRCs, which are verified) fails with an error naming the shard file. A read of part of a row group (a
 * streaming window or a rank's block that cuts it) fetches and decompresses only the pages holding its rows,
 * found by the shard's offset index ({@link PageFilter}); a shard without one is read whole column chunk by
 * column chunk, as before.
 */
public final class LatentDataset {

    private static final Logger LOG = LogManager.getLogger(LatentDataset.class);

    private final String uri;
    private final Configuration conf;
    private final DatasetManifest manifest;
    private final int readThreads;
    /** Shards found without an offset index, so that saying so takes one DEBUG line per file. */
    private final Set<String> unindexed;

    private LatentDataset(String uri, Configuration conf, DatasetManifest manifest, int readThreads,
                          Set<String> unindexed) {
        this.uri = uri;
        this.conf = conf;
        this.manifest = manifest;
        this.readThreads = readThreads;
        this.unindexed = unindexed;
    }

    /** Opens the dataset at {@code uri} (any Hadoop file system) with a default Hadoop configuration. */
    public static LatentDataset open(String uri) throws IOException {
        return open(uri, new Configuration());
    }

    /** Opens the dataset at {@code uri}: reads and checks its manifest, nothing else yet. */
    public static LatentDataset open(String uri, Configuration conf) throws IOException {
        dev.ditspark.core.config.Secrets.requireNoCredentials("dataset URI", uri);
        DatasetManifest m = DatasetManifest.read(uri, conf);
        if (m.count() > Integer.MAX_VALUE) {
            throw new DatasetFormatException(uri, "count " + m.count() + " exceeds what one reader indexes");
        }
        return new LatentDataset(uri, conf, m, Math.min(4, Runtime.getRuntime().availableProcessors()),
                ConcurrentHashMap.newKeySet());
    }

    /** This dataset read with {@code threads} shards in flight at once (default min(4, cores)). */
    public LatentDataset withReadThreads(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be > 0, got " + threads);
        }
        return new LatentDataset(uri, conf, manifest, threads, unindexed);
    }

    public String uri() {
        return uri;
    }

    public DatasetManifest manifest() {
        return manifest;
    }

    /** Rows in the whole dataset. */
    public int size() {
        return (int) manifest.count();
    }

    /** The whole dataset in memory (rank 0 of 1). */
    public LatentSubset loadAll() throws IOException {
        return subset(0, 1);
    }

    /**
     * Loads rank {@code rank}'s share: {@code size() / worldSize} rows, the same count on every rank, each
     * row on exactly one rank (see the class comment for which).
     */
    public LatentSubset subset(int rank, int worldSize) throws IOException {
        if (worldSize <= 0 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " of world size " + worldSize);
        }
        int perRank = size() / worldSize;
        long start = (long) rank * perRank;
        long end = start + perRank;
        LatentSubset subset = new LatentSubset(manifest, rank, worldSize, start, perRank);

        List<ShardRead> reads = new ArrayList<>();
        long shardStart = 0;
        for (Shard s : manifest.shards()) {
            long shardEnd = shardStart + s.rows();
            long from = Math.max(start, shardStart);
            long to = Math.min(end, shardEnd);
            if (from < to) {
                reads.add(new ShardRead(s, from - shardStart, (int) (to - from), (int) (from - start)));
            }
            shardStart = shardEnd;
        }
        readAll(reads, subset);
        return subset;
    }

    /** Rows {@code [skip, skip + take)} of one shard, stored from position {@code position} of the share. */
    private record ShardRead(Shard shard, long skip, int take, int position) {
    }

    private void readAll(List<ShardRead> reads, LatentSubset into) throws IOException {
        if (reads.size() <= 1 || readThreads == 1) {
            for (ShardRead r : reads) {
                readShard(r, into);
            }
            return;
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(readThreads, reads.size()), task -> {
            Thread t = new Thread(task, "dit-shard-reader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (ShardRead r : reads) {
                futures.add(pool.submit(() -> {
                    readShard(r, into);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(other -> other.cancel(true));
                    Throwable cause = e.getCause();
                    if (cause instanceof IOException io) {
                        throw io;
                    }
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while reading " + uri, e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void readShard(ShardRead read, LatentSubset into) throws IOException {
        Path path = shardPath(read.shard());
        String name = path.toString();
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf), readOptions())) {
            MessageType projection = checkAndProject(name, reader, read.shard());
            long rowGroupStart = 0;
            long wantFrom = read.skip();
            long wantTo = read.skip() + read.take();
            List<BlockMetaData> blocks = reader.getRowGroups();
            for (int i = 0; i < blocks.size() && rowGroupStart < wantTo; i++) {
                long rowGroupEnd = rowGroupStart + blocks.get(i).getRowCount();
                if (rowGroupEnd > wantFrom) {
                    long skip = Math.max(0, wantFrom - rowGroupStart);
                    int take = (int) (Math.min(wantTo, rowGroupEnd) - rowGroupStart - skip);
                    int position = read.position() + (int) (rowGroupStart + skip - wantFrom);
                    readPiece(name, reader, projection, i, skip, take, into, position);
                }
                rowGroupStart = rowGroupEnd;
            }
        } catch (IOException | RuntimeException e) {
            throw shardFailure(name, e);
        }
    }

    /** One row group of one shard, as the streaming reader plans its reads (see {@link LatentStream}). */
    record RowGroup(Shard shard, int index, long firstGlobalRow, int rows, long bytes) {
    }

    /**
     * Every row group of every shard, in manifest order, from the shards' footers (each checked against the
     * manifest as a full load does); {@code bytes} is the uncompressed size of the training columns, what reading
     * the group holds at most.
     */
    List<RowGroup> rowGroups() throws IOException {
        List<RowGroup> groups = new ArrayList<>();
        long first = 0;
        for (Shard s : manifest.shards()) {
            Path path = shardPath(s);
            String name = path.toString();
            try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf), readOptions())) {
                checkAndProject(name, reader, s);
                List<BlockMetaData> blocks = reader.getRowGroups();
                for (int i = 0; i < blocks.size(); i++) {
                    BlockMetaData b = blocks.get(i);
                    long bytes = 0;
                    for (var c : b.getColumns()) {
                        if (LatentSchema.TRAINING_PROJECTION.containsField(c.getPath().toDotString())) {
                            bytes += c.getTotalUncompressedSize();
                        }
                    }
                    groups.add(new RowGroup(s, i, first, Math.toIntExact(b.getRowCount()), bytes));
                    first += b.getRowCount();
                }
            } catch (IOException | RuntimeException e) {
                throw shardFailure(name, e);
            }
        }
        return groups;
    }

    /** Reads rows {@code [skip, skip + take)} of one row group into {@code sink} from {@code position} on. */
    void readRows(RowGroup group, long skip, int take, RowSink sink, int position) throws IOException {
        Path path = shardPath(group.shard());
        String name = path.toString();
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf), readOptions())) {
            MessageType projection = checkAndProject(name, reader, group.shard());
            readPiece(name, reader, projection, group.index(), skip, take, sink, position);
        } catch (IOException | RuntimeException e) {
            throw shardFailure(name, e);
        }
    }

    /**
     * Rows {@code [skip, skip + take)} of row group {@code index}: when that is a strict part of the group and the
     * shard has an offset index, only the pages holding them ({@link PageFilter}); otherwise the whole column
     * chunks, skipping {@code skip} rows value by value.
     */
    private void readPiece(String name, ParquetFileReader reader, MessageType projection, int index, long skip,
                           int take, RowSink sink, int position) throws IOException {
        if (take == 0) {
            return;
        }
        BlockMetaData block = reader.getRowGroups().get(index);
        String createdBy = reader.getFooter().getFileMetaData().getCreatedBy();
        boolean part = skip > 0 || skip + take < block.getRowCount();
        if (part && PageFilter.indexed(block, projection)) {
            PageFilter.checkIndex(name, reader, index, projection);
            try (PageReadStore pages = PageFilter.checked(name, index,
                    reader.readFilteredRowGroup(index, PageFilter.rows(skip, skip + take - 1)))) {
                // The store's column readers start at row skip: nothing to skip here.
                decode(name, pages, projection, createdBy, 0, skip, take, sink, position);
            }
            return;
        }
        if (part && unindexed.add(name)) {
            LOG.debug("{}: no offset index (written by {}); pieces of its row groups read whole column chunks", name,
                    createdBy);
        }
        try (PageReadStore pages = reader.readRowGroup(index)) {
            decode(name, pages, projection, createdBy, skip, skip, take, sink, position);
        }
    }

    private Path shardPath(Shard s) {
        return new Path(new Path(uri), s.file());
    }

    /** Checks the footer and sets the projection: the file's own types (optional in a Spark-written shard). */
    private MessageType checkAndProject(String name, ParquetFileReader reader, Shard shard) {
        FileMetaData meta = reader.getFooter().getFileMetaData();
        checkShard(name, meta.getSchema(), meta.getKeyValueMetaData(), reader.getRecordCount(), shard);
        MessageType fileSchema = meta.getSchema();
        MessageType projection = new MessageType(fileSchema.getName(),
                LatentSchema.TRAINING_PROJECTION.getFields().stream().map(f -> fileSchema.getType(f.getName())).toList());
        reader.setRequestedSchema(projection);
        return projection;
    }

    /**
     * Decodes {@code take} rows into {@code into} from {@code position} on, after skipping {@code skip} rows of each
     * column; {@code firstRow} is the first taken row's number in its row group (for messages).
     */
    private static void decode(String name, PageReadStore pages, MessageType projection, String createdBy, long skip,
                               long firstRow, int take, RowSink into, int position) {
        var columns = new ColumnReadStoreImpl(pages, new GroupRecordConverter(projection).getRootConverter(), projection,
                createdBy);
        readLabels(name, columns.getColumnReader(column(projection, LatentSchema.LABEL)), skip, firstRow, take, position,
                into);
        for (Field f : Field.values()) {
            String col = LatentSchema.ARRAYS.get(f.ordinal());
            readArrays(name, col, columns.getColumnReader(column(projection, col)), skip, firstRow, take, position,
                    into.store(f));
        }
    }

    /** Every failure to read a shard as one line naming the file (a format error, or an I/O error with its cause). */
    private static IOException shardFailure(String name, Exception e) {
        if (e instanceof DatasetFormatException d) {
            throw d;
        }
        if (e instanceof FileNotFoundException) {
            throw new DatasetFormatException(name, "shard listed in the manifest is missing", e);
        }
        if (e instanceof IOException) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof org.apache.hadoop.fs.ChecksumException) {
                    // Hadoop's "Checksum error: ... exp: N got: M", in words: the bytes changed after they were written.
                    throw new DatasetFormatException(name, "corrupt or truncated shard: its bytes do not match the "
                            + "checksum Hadoop recorded when it was written (its .crc file); re-run dit prepare for it", e);
                }
            }
            return new IOException(name + ": cannot read shard: " + e.getMessage(), e);
        }
        // Parquet reports truncated files, bad magic, CRC mismatches and undecodable pages this way.
        throw new DatasetFormatException(name, "corrupt or truncated shard: " + e.getMessage(), e);
    }

    /** Where decoded rows go: a whole share ({@link LatentSubset}) or a shuffle window of a stream. */
    interface RowSink {
        int numClasses();

        void setLabel(int position, int label);

        ByteStore store(Field field);
    }

    private ParquetReadOptions readOptions() {
        return HadoopReadOptions.builder(conf).usePageChecksumVerification(true).build();
    }

    private static ColumnDescriptor column(MessageType schema, String name) {
        return schema.getColumnDescription(new String[] {name});
    }

    private static void readLabels(String file, ColumnReader r, long skip, long firstRow, int take, int position,
                                   RowSink into) {
        int maxDef = r.getDescriptor().getMaxDefinitionLevel();
        for (long i = 0; i < skip; i++) {
            r.skip();
            r.consume();
        }
        int numClasses = into.numClasses();
        for (int i = 0; i < take; i++) {
            if (r.getCurrentDefinitionLevel() < maxDef) {
                throw new DatasetFormatException(file, "row " + (firstRow + i) + ": label is null");
            }
            int label = r.getInteger();
            if (label < 0 || label >= numClasses) {
                throw new DatasetFormatException(file, "row " + (firstRow + i) + ": label " + label + " outside [0, "
                        + numClasses + ")");
            }
            into.setLabel(position + i, label);
            r.consume();
        }
    }

    private static void readArrays(String file, String col, ColumnReader r, long skip, long firstRow, int take,
                                   int position, ByteStore store) {
        int maxDef = r.getDescriptor().getMaxDefinitionLevel();
        for (long i = 0; i < skip; i++) {
            r.skip();
            r.consume();
        }
        for (int i = 0; i < take; i++) {
            if (r.getCurrentDefinitionLevel() < maxDef) {
                throw new DatasetFormatException(file, "row " + (firstRow + i) + ": " + col + " is null");
            }
            Binary b = r.getBinary();
            if (b.length() != store.recordBytes()) {
                throw new DatasetFormatException(file, "row " + (firstRow + i) + ": " + col + " has " + b.length()
                        + " bytes, the manifest's shape and dtype need " + store.recordBytes());
            }
            ByteBuffer bytes = b.toByteBuffer();
            store.put(position + i, bytes);
            r.consume();
        }
    }

    /** Checks a shard's footer against the schema and the manifest before reading any page. */
    private void checkShard(String file, MessageType schema, Map<String, String> meta, long rows, Shard listed) {
        if (rows != listed.rows()) {
            throw new DatasetFormatException(file, "holds " + rows + " rows, the manifest says " + listed.rows());
        }
        checkSchema(file, schema);
        String dtype = meta.get(LatentSchema.META_DTYPE);
        if (dtype != null && !dtype.equals(manifest.dtype().id())) {
            throw new DatasetFormatException(file, "holds " + dtype + " arrays, the manifest says "
                    + manifest.dtype().id());
        }
        String shape = meta.get(LatentSchema.META_SHAPE);
        if (shape != null && !shape.equals(LatentSchema.shape(manifest))) {
            throw new DatasetFormatException(file, "holds arrays of shape " + shape + ", the manifest says "
                    + LatentSchema.shape(manifest));
        }
    }

    /** The training columns must exist as non-repeated int32/binary; written by us they are also required. */
    static void checkSchema(String file, MessageType schema) {
        for (Type want : LatentSchema.TRAINING_PROJECTION.getFields()) {
            if (!schema.containsField(want.getName())) {
                throw new DatasetFormatException(file, "no column '" + want.getName() + "'; schema is " + schema);
            }
            Type have = schema.getType(want.getName());
            PrimitiveTypeName expected = want.asPrimitiveType().getPrimitiveTypeName();
            if (!have.isPrimitive() || have.isRepetition(Type.Repetition.REPEATED)
                    || ((PrimitiveType) have).getPrimitiveTypeName() != expected) {
                throw new DatasetFormatException(file, "column '" + want.getName() + "' is " + have + ", expected "
                        + want);
            }
        }
    }

    /** A shard's row count from its footer, after checking its schema. */
    static long footerRows(Path path, Configuration conf) throws IOException {
        String name = path.toString();
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
            checkSchema(name, reader.getFooter().getFileMetaData().getSchema());
            return reader.getRecordCount();
        } catch (DatasetFormatException | FileNotFoundException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(name + ": cannot read shard: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new DatasetFormatException(name, "corrupt or truncated shard: " + e.getMessage(), e);
        }
    }
}
