package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.errors.DitUserError;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 13: a deterministic failure (bad data, no GPU for nccl) ends the barrier stage at its first attempt
 * (Spark would otherwise resubmit it spark.stage.maxConsecutiveAttempts = 4 times, each with its stack traces), as
 * a {@link DitUserError} whose one-line message names the rank and the file or field.
 */
class DeterministicFailureTest {
    @TempDir
    static Path dir;

    static JavaSparkContext spark;
    static final AtomicInteger retriedStages = new AtomicInteger();

    @BeforeAll
    static void start() {
        spark = new JavaSparkContext(TinyRun.localSpark("local[2,4]"));
        spark.sc().addSparkListener(new SparkListener() {
            @Override
            public void onStageSubmitted(SparkListenerStageSubmitted s) {
                if (s.stageInfo().attemptNumber() > 0) {
                    retriedStages.incrementAndGet();
                }
            }
        });
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
    }

    /** With Hadoop's .crc beside it (local or HDFS) and without (S3, or a copy that skips dot files). */
    @Test
    void aTruncatedShardFailsAtOnceNamingTheFileAndRank() throws Exception {
        for (boolean crc : new boolean[] {true, false}) {
            Path data = dir.resolve("truncated-" + crc);
            FashionMnist.installed().importTo(data.toUri().toString(), FashionMnist.Split.TRAIN, 16);
            Path shard;
            try (Stream<Path> s = Files.list(data)) {
                shard = s.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
            }
            try (FileChannel c = FileChannel.open(shard, StandardOpenOption.WRITE)) {
                c.truncate(c.size() / 2);
            }
            if (!crc) {
                Files.delete(shard.resolveSibling("." + shard.getFileName() + ".crc"));
            }
            RunConfig run = TinyRun.config(dir, data.toUri().toString(), dir.resolve("ck-trunc-" + crc).toUri().toString(),
                    List.of("train.workers=2"));
            retriedStages.set(0);
            DitUserError e = assertThrows(DitUserError.class, () -> DistributedTraining.run(spark, run));
            assertTrue(e.getMessage().matches("rank [01]: .*" + shard.getFileName() + ": corrupt or truncated shard.*"),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            assertEquals(0, retriedStages.get(), "no stage was retried");
        }
    }

    @Test
    void ncclWithoutAGpuFailsAtOnceNamingTheField() {
        String data = dir.resolve("fm").toUri().toString();
        try {
            FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
        RunConfig run = TinyRun.config(dir, data, dir.resolve("ck-nccl").toUri().toString(),
                List.of("train.workers=2", "collective.backend=nccl"));
        retriedStages.set(0);
        DitUserError e = assertThrows(DitUserError.class, () -> DistributedTraining.run(spark, run));
        assertTrue(e.getMessage().matches("rank [01]: collective.backend: nccl needs one GPU per task.*"), e.getMessage());
        assertEquals(0, retriedStages.get(), "no stage was retried");
    }
}
