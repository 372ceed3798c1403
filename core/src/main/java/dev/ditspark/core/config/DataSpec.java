package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code data:} the dataset written by {@code dit prepare} (or the Fashion-MNIST import): a Hadoop URI, read as
 * a stream of shuffled windows (see {@link dev.ditspark.core.data.LatentStream}).
 *
 * @param uri the dataset directory (file://, hdfs://, s3a://)
 * @param memoryMb the most heap, in MiB, one worker's reader holds: two shuffle windows per stream plus one Parquet
 *     row group in flight (default {@value #DEFAULT_MEMORY_MB}); the window size, and so the order, follows from it
 * @param streams how many streams the dataset is dealt into each epoch (default: train.workers); the order of the
 *     global batches depends on (train.seed, epoch, streams, the window), not on train.workers, so any worker count
 *     that divides it draws the same batches
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DataSpec(String uri, Integer memoryMb, Integer streams) {

    public static final int DEFAULT_MEMORY_MB = 2048;

    public DataSpec {
        require(uri != null && !uri.isBlank(), "data.uri", "must name the dataset directory (file://, hdfs://, s3a://)");
        Secrets.requireNoCredentials("data.uri", uri);
        memoryMb = orDefault(memoryMb, DEFAULT_MEMORY_MB);
        require(memoryMb > 0, "data.memory_mb", "must be positive, got " + memoryMb);
        require(streams == null || streams > 0, "data.streams", "must be positive, got " + streams);
    }

    public DataSpec(String uri) {
        this(uri, null, null);
    }

    /** The reader's budget in bytes. */
    public long memoryBytes() {
        return (long) memoryMb << 20;
    }

    /** data.streams, or train.workers when unset. */
    public int streamsFor(TrainSpec train) {
        return streams != null ? streams : train.workers();
    }

    /** Streams must be dealt evenly to workers and split the global batch evenly. */
    void check(TrainSpec train) {
        int s = streamsFor(train);
        require(s % train.workers() == 0, "data.streams",
                "must be a multiple of train.workers " + train.workers() + ", got " + s);
        require(train.globalBatch() % s == 0, "data.streams",
                "must divide train.global_batch " + train.globalBatch() + ", got " + s);
    }
}
