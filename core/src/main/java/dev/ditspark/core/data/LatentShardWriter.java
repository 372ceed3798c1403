package dev.ditspark.core.data;

import dev.ditspark.core.data.DatasetManifest.Shard;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;

/**
 * Writes a latent dataset: Parquet shards {@code part-00000.parquet, ...} of at most
 * {@link Builder#rowsPerShard} rows each, then {@code manifest.json} on {@link #close()}.
 *
 * <p>Each shard is written under a hidden temporary name and renamed when complete ({@link TempFileCommit}),
 * and the manifest comes last, so a crash leaves either no dataset or a complete one, never a half shard
 * under a real name. A Spark job whose tasks each write some shards turns off {@link Builder#writeManifest},
 * gives each task its own {@link Builder#shardPrefix}, and commits one manifest from the driver with
 * {@link DatasetManifest#commit} over all the tasks' {@link #shards()}.
 *
 * <pre>{@code
 * var layout = DatasetManifest.describe(4, 32, 32, LatentDType.FLOAT16, "stabilityai/sd-vae-ft-ema", 0.18215,
 *         256, classNames, "s3a://bucket/imagenet/train");
 * try (LatentShardWriter w = LatentShardWriter.to("s3a://bucket/latents/imagenet256", layout).open()) {
 *     w.write(new LatentRecord(label, mean, std, meanFlip, stdFlip, path));
 * }
 * }</pre>
 */
public final class LatentShardWriter implements AutoCloseable {

    /** Options of a writer; {@link #open()} starts writing. */
    public static final class Builder {
        private final String datasetUri;
        private final DatasetManifest layout;
        private Configuration conf;
        private int rowsPerShard;
        private CompressionCodecName compression; // null: by the layout, see compression(...)
        private String shardPrefix = "part";
        private boolean writeManifest = true;
        private boolean overwrite;
        private long rowGroupBytes = ParquetWriter.DEFAULT_BLOCK_SIZE;
        private int pageBytes = ParquetWriter.DEFAULT_PAGE_SIZE;

        private Builder(String datasetUri, DatasetManifest layout) {
            this.datasetUri = datasetUri;
            this.layout = layout;
            // About 256 MiB of arrays per shard: big enough for efficient reads, small enough to spread.
            this.rowsPerShard = Math.max(1, (256 << 20) / (4 * layout.bytesPerArray()));
        }

        /** The Hadoop configuration of the target file system (default: a fresh {@code Configuration}). */
        public Builder conf(Configuration conf) {
            this.conf = conf;
            return this;
        }

        /** Rows per shard before a new one is started (default: about 256 MiB of arrays). */
        public Builder rowsPerShard(int rows) {
            if (rows <= 0) {
                throw new IllegalArgumentException("rowsPerShard must be > 0, got " + rows);
            }
            this.rowsPerShard = rows;
            return this;
        }

        /**
         * Page compression. The default depends on the arrays ({@link #defaultCompression}): SNAPPY for pixels
         * (encoder "none": pixel data and zero stds shrink a lot), UNCOMPRESSED for encoder latents, whose float16
         * values snappy barely shrinks (random-latent shards: 1.00 of their raw size, docs/benchmarks.md) while
         * reading it through Parquet's decompressor costs the streaming reader's threads about a quarter of their CPU per
         * row.
         */
        public Builder compression(CompressionCodecName codec) {
            this.compression = codec;
            return this;
        }

        /** Shard names are {@code <prefix>-00000.parquet, ...} (default prefix "part"). */
        public Builder shardPrefix(String prefix) {
            if (prefix == null || prefix.isEmpty() || prefix.contains("/") || prefix.startsWith("_")
                    || prefix.startsWith(".")) {
                throw new IllegalArgumentException("shardPrefix must be a plain visible name, got '" + prefix + "'");
            }
            this.shardPrefix = prefix;
            return this;
        }

        /** Whether {@link #close()} writes the manifest (default true; false for one task of a parallel job). */
        public Builder writeManifest(boolean write) {
            this.writeManifest = write;
            return this;
        }

        /**
         * Whether an existing dataset at the target may be replaced (default false). Its manifest is deleted
         * first, so readers see no dataset until the new one is complete.
         */
        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        /** Parquet row group size in bytes (default 128 MiB); small values let tests cross row groups. */
        public Builder rowGroupBytes(long bytes) {
            this.rowGroupBytes = bytes;
            return this;
        }

        /** Parquet page size in bytes (default 1 MiB); small values let tests cut row groups into many pages. */
        Builder pageBytes(int bytes) {
            this.pageBytes = bytes;
            return this;
        }

        public LatentShardWriter open() throws IOException {
            return new LatentShardWriter(this);
        }
    }

    /** Starts describing a writer of a dataset at {@code datasetUri} with {@code layout}'s shape and dtype. */
    public static Builder to(String datasetUri, DatasetManifest layout) {
        if (layout.count() != 0) {
            throw new IllegalArgumentException("layout must describe an empty dataset (DatasetManifest.describe)");
        }
        return new Builder(datasetUri, layout);
    }

    private final String datasetUri;
    private final DatasetManifest layout;
    private final Configuration conf;
    private final Path dir;
    private final FileSystem fs;
    private final int rowsPerShard;
    private final CompressionCodecName compression;
    private final String shardPrefix;
    private final boolean writeManifest;
    private final long rowGroupBytes;
    private final int pageBytes;
    private final List<Shard> shards = new ArrayList<>();

    private ParquetWriter<LatentRecord> current;
    private Path currentTmp;
    private Path currentTarget;
    private long currentRows;
    private long count;
    private boolean failed;
    private boolean closed;
    private DatasetManifest manifest;

    /** SNAPPY for a pixel dataset (encoder "none"), UNCOMPRESSED for encoder latents; see Builder.compression. */
    public static CompressionCodecName defaultCompression(DatasetManifest layout) {
        return layout.isPixels() ? CompressionCodecName.SNAPPY : CompressionCodecName.UNCOMPRESSED;
    }

    private LatentShardWriter(Builder b) throws IOException {
        this.datasetUri = b.datasetUri;
        this.layout = b.layout;
        this.conf = b.conf != null ? b.conf : new Configuration();
        this.dir = new Path(b.datasetUri);
        this.fs = dir.getFileSystem(conf);
        this.rowsPerShard = b.rowsPerShard;
        this.compression = b.compression != null ? b.compression : defaultCompression(b.layout);
        this.shardPrefix = b.shardPrefix;
        this.writeManifest = b.writeManifest;
        this.rowGroupBytes = b.rowGroupBytes;
        this.pageBytes = b.pageBytes;
        if (writeManifest) {
            clearExisting(b.overwrite);
        }
        fs.mkdirs(dir);
    }

    /** Refuses to write over a finished dataset unless asked to, then unpublishes it before anything else. */
    private void clearExisting(boolean overwrite) throws IOException {
        Path manifestPath = new Path(dir, DatasetManifest.FILE_NAME);
        if (!fs.exists(manifestPath)) {
            return;
        }
        if (!overwrite) {
            throw new IOException(datasetUri + " already holds a dataset (manifest.json); delete it or write with "
                    + "overwrite(true)");
        }
        List<Shard> old = List.of();
        try {
            old = DatasetManifest.read(datasetUri, conf).shards();
        } catch (DatasetFormatException e) {
            // An unreadable old manifest lists nothing we can trust; the new shards replace what they name.
        }
        fs.delete(manifestPath, false);
        for (Shard s : old) {
            fs.delete(new Path(dir, s.file()), false);
        }
    }

    /** Appends one row, starting a new shard when the current one is full. */
    public void write(LatentRecord record) throws IOException {
        if (closed) {
            throw new IllegalStateException("writer of " + datasetUri + " is closed");
        }
        if (failed) {
            throw new IllegalStateException("writer of " + datasetUri + " failed earlier; nothing more is written");
        }
        try {
            if (current == null) {
                startShard();
            }
            current.write(record);
        } catch (IllegalArgumentException e) {
            throw e; // a bad record is refused before any byte of it is written; the writer stays usable
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
        currentRows++;
        count++;
        if (currentRows == rowsPerShard) {
            finishShard();
        }
    }

    private void startShard() throws IOException {
        String name = String.format("%s-%05d.parquet", shardPrefix, shards.size());
        currentTarget = new Path(dir, name);
        currentTmp = TempFileCommit.temporaryFor(currentTarget);
        OutputFile out = HadoopOutputFile.fromPath(currentTmp, conf);
        current = new ParquetBuilder(out, layout)
                .withConf(conf)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withCompressionCodec(compression)
                .withRowGroupSize(rowGroupBytes)
                .withPageSize(pageBytes)
                // Arrays and sources are unique per row: dictionaries and min/max statistics only cost.
                .withDictionaryEncoding(false)
                .withDictionaryEncoding(LatentSchema.LABEL, true)
                .withStatisticsEnabled(false)
                .withStatisticsEnabled(LatentSchema.LABEL, true)
                .withSizeStatisticsEnabled(false)
                .build();
        currentRows = 0;
    }

    private void finishShard() throws IOException {
        try {
            current.close();
            current = null;
            TempFileCommit.commit(fs, currentTmp, currentTarget);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
        shards.add(new Shard(currentTarget.getName(), currentRows));
    }

    /** Rows written so far. */
    public long count() {
        return count;
    }

    /** The shards committed so far (all of them after {@link #close()}). */
    public List<Shard> shards() {
        return List.copyOf(shards);
    }

    /** The manifest of what was written; available after {@link #close()} (also when it was not written). */
    public DatasetManifest manifest() {
        if (manifest == null) {
            throw new IllegalStateException("writer of " + datasetUri + " is not closed yet");
        }
        return manifest;
    }

    /**
     * Commits the last shard and writes the manifest (if enabled). After a failed write it only removes the
     * unfinished shard, writes no manifest and says so.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (failed) {
            discardAndThrow(new IOException(datasetUri + ": not committed, an earlier write failed"));
        }
        if (current != null && currentRows > 0) {
            finishShard();
        } else if (current != null) {
            // Opened for a record that was then refused: an empty shard is not worth listing.
            current.close();
            current = null;
            fs.delete(currentTmp, false);
        }
        manifest = layout.withShards(shards);
        if (writeManifest) {
            manifest.commit(datasetUri, conf);
        }
    }

    /** Stops writing without a manifest, removing the unfinished shard; committed shards stay. */
    public void abort() {
        if (closed) {
            return;
        }
        closed = true;
        failed = true;
        try {
            discardAndThrow(new IOException(datasetUri + ": aborted"));
        } catch (IOException expected) {
            // abort is the caller's choice, not an error
        }
    }

    /** Closes and deletes the unfinished shard, then throws {@code reason} (with any cleanup error suppressed). */
    private void discardAndThrow(IOException reason) throws IOException {
        if (current != null) {
            try {
                current.close();
            } catch (IOException | RuntimeException e) {
                reason.addSuppressed(e);
            }
            current = null;
            TempFileCommit.discard(fs, currentTmp, reason);
        }
        throw reason;
    }

    /** Reads the row count of an already written shard (to resume a job that skips finished shards). */
    public static Shard existingShard(String datasetUri, String file, Configuration conf) throws IOException {
        Path p = new Path(new Path(datasetUri), file);
        try {
            return new Shard(file, LatentDataset.footerRows(p, conf));
        } catch (FileNotFoundException e) {
            throw new DatasetFormatException(p.toString(), "no such shard", e);
        }
    }

    private static final class ParquetBuilder extends ParquetWriter.Builder<LatentRecord, ParquetBuilder> {
        private final DatasetManifest layout;

        ParquetBuilder(OutputFile file, DatasetManifest layout) {
            super(file);
            this.layout = layout;
        }

        @Override
        protected ParquetBuilder self() {
            return this;
        }

        @Override
        @SuppressWarnings("deprecation") // abstract in ParquetWriter.Builder, so it must be implemented
        protected WriteSupport<LatentRecord> getWriteSupport(Configuration conf) {
            return new LatentSchema.RecordWriteSupport(layout);
        }

        @Override
        protected WriteSupport<LatentRecord> getWriteSupport(ParquetConfiguration conf) {
            return new LatentSchema.RecordWriteSupport(layout);
        }
    }
}
