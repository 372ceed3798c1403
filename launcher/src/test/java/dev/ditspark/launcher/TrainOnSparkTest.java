package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

/**
 * {@code dit train} with several workers: on the embedded local Spark (the default), and submitted with
 * {@code --master} to a Spark standalone master and worker that this test starts (separate executor JVMs).
 */
@Tag("e2e")
class TrainOnSparkTest {

    @TempDir
    static Path dir;

    static Path yaml;

    @BeforeAll
    static void data() throws Exception {
        String data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 32);
        yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: '%s'}
                train: {global_batch: 8, max_steps: 4, lr: 1.0e-3, log_every: 1, threads: 1}
                checkpoint: {uri: 'unset', every: 2}
                collective: {backend: tcp, timeout_seconds: 60}
                """.formatted(data));
    }

    @Test
    void twoWorkersOnTheEmbeddedLocalSpark() {
        String ckpt = dir.resolve("local").toUri().toString();
        DitRun r = DitRun.of("train", "--config", yaml.toString(), "--workers", "2", "--set", "checkpoint.uri=" + ckpt);
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("trained to step 4 on 2 workers"), r.all());
        assertEquals(List.of(2L, 4L), CheckpointStore.open(ckpt, new Configuration()).committedSteps());
    }

    @Test
    void submittedWithMasterToAStandaloneCluster() throws Exception {
        SparkConf conf = new SparkConf().set("spark.ui.enabled", "false");
        RpcEnv master = (RpcEnv) Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        String url = "spark://127.0.0.1:" + master.address().port();
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars")); // the worker's (empty) Spark install
        RpcEnv worker = Worker$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, 2, 3072, new String[] {url},
                dir.resolve("work").toString(), Option.empty(), conf, Option.empty());
        try {
            String ckpt = dir.resolve("cluster").toUri().toString();
            DitRun r = DitRun.of("train", "--config", yaml.toString(), "--workers", "2", "--master", url,
                    "--set", "checkpoint.uri=" + ckpt,
                    "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=1g",
                    // The worker's Spark install is empty: executors take Spark from this test's class path.
                    "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
                    "--conf", "spark.ui.enabled=false");
            assertEquals(0, r.code(), r.all());
            assertTrue(r.out().contains("spark: FINISHED"), r.all());
            assertEquals(List.of(2L, 4L), CheckpointStore.open(ckpt, new Configuration()).committedSteps());
        } finally {
            worker.shutdown();
            master.shutdown();
        }
    }

    @Test
    void aMissingPropertiesFileIsNamedBeforeAnythingIsSubmitted() {
        DitRun r = DitRun.of("train", "--config", yaml.toString(), "--workers", "2", "--master", "spark://127.0.0.1:1",
                "--properties-file", dir.resolve("nope.conf").toString(), "--set", "checkpoint.uri=" + dir.resolve("x"));
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("--properties-file " + dir.resolve("nope.conf") + ": no such file"), r.all());
    }
}
