package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's whole executor JVM is killed mid-run (local-cluster: a master, a worker and one executor JVM per
 * rank, as on a real cluster). Spark loses the executor, the barrier stage fails and is resubmitted on a
 * replacement executor, every rank resumes from the newest committed checkpoint, and the run ends with the
 * weights of an uninterrupted run, bit for bit.
 */
@Tag("e2e")
class ExecutorLossRecoveryTest {

    @TempDir
    Path dir;

    @Test
    void aKilledExecutorIsReplacedAndTheRunEndsAsIfNothingHappened() throws Exception {
        String data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        List<String> overrides = List.of("train.workers=2", "train.max_steps=6", "collective.timeout_seconds=30");
        String straight = dir.resolve("straight").toUri().toString();
        String killed = dir.resolve("killed").toUri().toString();
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars")); // the "installation" executors start from
        SparkConf conf = TinyRun.localSpark("local-cluster[2,1,1024]")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", "-Dai.djl.offline=true")
                .set("spark.executorEnv.OPT_OUT_TRACKING", "true");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            DistributedTraining.run(spark, TinyRun.config(dir, data, straight, overrides));
            List<WorkerResult> results = DistributedTraining.run(spark, TinyRun.config(dir, data, killed, overrides),
                    new InjectedFailure(3, 1, InjectedFailure.Mode.HALT));
            assertEquals(6, results.get(1).finalStep());
        }
        Configuration hadoop = new Configuration();
        assertEquals(List.of(2L, 4L, 6L), CheckpointStore.open(killed, hadoop).committedSteps());
        for (String file : List.of("model", "ema", "optimizer")) {
            TinyRun.assertClose(TinyRun.tensors(straight, hadoop, 6, file), TinyRun.tensors(killed, hadoop, 6, file), 0.0);
        }
    }

    @Test
    void aSigtermedExecutorCheckpointsTheStepReachedAndTheRunEndsAsIfNothingHappened() throws Exception {
        // Issue 10 #3 on Spark executors: a real SIGTERM to rank 1's executor JVM (an eviction); no periodic checkpoint
        // before the end, so the only one in between is the stop's.
        String data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        List<String> overrides = List.of("train.workers=2", "train.max_steps=8", "checkpoint.every=100",
                "collective.timeout_seconds=30");
        String straight = dir.resolve("straight").toUri().toString();
        String stopped = dir.resolve("stopped").toUri().toString();
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
        SparkConf conf = TinyRun.localSpark("local-cluster[2,1,1024]")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", "-Dai.djl.offline=true")
                .set("spark.executorEnv.OPT_OUT_TRACKING", "true");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            DistributedTraining.run(spark, TinyRun.config(dir, data, straight, overrides));
            List<WorkerResult> results = DistributedTraining.run(spark, TinyRun.config(dir, data, stopped, overrides),
                    new InjectedFailure(3, 1, InjectedFailure.Mode.SIGTERM));
            assertEquals(8, results.get(1).finalStep());
        }
        Configuration hadoop = new Configuration();
        List<Long> steps = CheckpointStore.open(stopped, hadoop).committedSteps();
        assertEquals(2, steps.size(), steps.toString());
        assertTrue(steps.get(0) >= 3 && steps.get(0) < 8, steps.toString()); // the stop's checkpoint
        for (String file : List.of("model", "ema", "optimizer")) {
            TinyRun.assertClose(TinyRun.tensors(straight, hadoop, 8, file), TinyRun.tensors(stopped, hadoop, 8, file), 0.0);
        }
    }
}
