package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.PerSampleNoise;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
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
 * Issue 11 item 1 from the command line: {@code dit sample --num-samples N --workers 2} (an embedded local Spark)
 * writes the same samples.npz and grid.png bytes as {@code --workers 1} (one JVM), with uniform labels drawn from
 * (seed, i), decoded through a VAE, and prints its progress with samples/s; {@code --master} to a Spark standalone
 * master and worker that this test starts (separate executor JVMs; weights and VAE shipped with --files) writes the
 * same bytes too.
 */
@Tag("e2e")
class SampleOnSparkTest {
    @TempDir
    static Path dir;

    static Path weights;
    static Path vae;
    static String[] common;

    @BeforeAll
    static void files() throws Exception {
        weights = dir.resolve("dit.safetensors");
        vae = dir.resolve("vae.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 3));
            dit.initialize(m, new Random(2));
            StateDict.write(dit, weights, TensorDType.F16, Map.of());
            SampleResumeTest.writeVae(vae, SampleResumeTest.TINY, m);
        }
        common = new String[] {"sample", "--weights", weights.toString(), "--model", "DiT-S/8", "--image-size", "64",
            "--num-classes", "3", "--num-samples", "5", "--batch", "2", "--steps", "4", "--cfg-scale", "1.5",
            "--seed", "3", "--vae", vae.toString()};
    }

    /** The reference: one worker in this JVM. */
    static synchronized Path oneWorker() {
        Path one = dir.resolve("one");
        if (!Files.exists(one.resolve("samples.npz"))) {
            DitRun r = DitRun.of(concat(common, "--out", one.toString()));
            assertEquals(0, r.code(), r.all());
            assertTrue(r.out().contains(" samples/s"), r.out());
        }
        return one;
    }

    @Test
    void submittedWithMasterToAStandaloneClusterEqualsOneWorker() throws Exception {
        SparkConf conf = new SparkConf().set("spark.ui.enabled", "false");
        RpcEnv master = (RpcEnv) Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        String url = "spark://127.0.0.1:" + master.address().port();
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars")); // the worker's (empty) Spark install
        RpcEnv worker = Worker$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, 2, 3072, new String[] {url},
                dir.resolve("work").toString(), Option.empty(), conf, Option.empty());
        try {
            String out = dir.resolve("cluster").toUri().toString();
            DitRun r = DitRun.of(concat(common, "--workers", "2", "--master", url, "--out", out,
                    "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=1g",
                    // The worker's Spark install is empty: executors take Spark from this test's class path.
                    "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
                    "--conf", "spark.ui.enabled=false"));
            assertEquals(0, r.code(), r.all());
            assertTrue(r.out().contains("spark: FINISHED"), r.all());
            assertArrayEquals(Files.readAllBytes(oneWorker().resolve("samples.npz")),
                    Files.readAllBytes(dir.resolve("cluster/samples.npz")));
        } finally {
            worker.shutdown();
            master.shutdown();
        }
    }

    @Test
    void twoWorkersOnTheEmbeddedSparkEqualOneWorker() throws Exception {
        Path one = oneWorker();
        DitRun two = DitRun.of(concat(common, "--workers", "2", "--out", dir.resolve("two").toString()));
        assertEquals(0, two.code(), two.all());
        System.out.println(two.out());
        assertTrue(two.out().contains("sample: 100% (5/5 samples), "), two.out());
        assertTrue(two.out().matches("(?s).*\\d+\\.\\d\\d samples/s.*"), two.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("one/samples.npz")), Files.readAllBytes(dir.resolve("two/samples.npz")));
        assertArrayEquals(Files.readAllBytes(dir.resolve("one/grid.png")), Files.readAllBytes(dir.resolve("two/grid.png")));
        SampleImages s = SampleImages.readNpz(dir.resolve("two/samples.npz"));
        assertEquals(5, s.count());
        assertEquals(64, s.height());
        assertArrayEquals(PerSampleNoise.uniformLabels(3, 5, 3), s.labels().orElseThrow());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
