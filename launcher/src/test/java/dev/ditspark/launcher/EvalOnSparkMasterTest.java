package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

/**
 * Issue 11 item 3: {@code dit eval --ref --workers 2 --master URL} submitted to a Spark standalone master and worker
 * this test starts (separate executor JVMs, --samples shipped with --files, the driver here in client mode) prints
 * the five numbers of the one-JVM {@code dit eval}; a bad master URL is refused in one line before anything runs.
 * Needs the job jar: {@code mvn -pl spark-job -am package -DskipTests} first, as SampleOnSparkTest.
 */
class EvalOnSparkMasterTest {
    private static final String[] NUMBERS = {"Inception Score", "FID", "sFID", "Precision", "Recall"};

    private static Path npz(Path dir, String name, int n, long seed) throws Exception {
        Random r = new Random(seed);
        float[] px = new float[n * 3 * 32 * 32];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        Path p = dir.resolve(name);
        SampleImages.fromPixels(px, n, 3, 32, 32).writeNpz(p);
        return p;
    }

    private static String value(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": (\\S+)$").matcher(out);
        assertTrue(m.find(), "no '" + label + "' line in:\n" + out);
        return m.group(1);
    }

    @Test
    @Tag("e2e") // a standalone master and worker, two executor JVMs, random Inception-v3 forwards on the CPU
    void submittedWithMasterGivesTheNumbersOfOneJvm(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz", 5, 1); // 3 batches of 2: the tasks get 1 and 2, the last one short
        Path ref = npz(dir, "ref.npz", 4, 2);
        String[] common = {"eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", "random:0",
            "--batch-size", "2", "--threads", "1"};
        DitRun here = DitRun.of(common);
        assertEquals(0, here.code(), here.all());

        SparkConf conf = new SparkConf().set("spark.ui.enabled", "false");
        RpcEnv master = (RpcEnv) Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        String url = "spark://127.0.0.1:" + master.address().port();
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars")); // the worker's (empty) Spark install
        RpcEnv worker = Worker$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, 2, 3072, new String[] {url},
                dir.resolve("work").toString(), Option.empty(), conf, Option.empty());
        DitRun onCluster;
        try {
            String[] extra = {"--workers", "2", "--master", url,
                "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=1g",
                // The worker's Spark install is empty: executors take Spark from this test's class path.
                "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
                "--conf", "spark.ui.enabled=false"};
            String[] args = java.util.Arrays.copyOf(common, common.length + extra.length);
            System.arraycopy(extra, 0, args, common.length, extra.length);
            onCluster = DitRun.of(args);
        } finally {
            worker.shutdown();
            master.shutdown();
        }
        assertEquals(0, onCluster.code(), onCluster.all());
        assertTrue(onCluster.out().contains("spark: FINISHED"), onCluster.all());
        for (String k : NUMBERS) {
            // Each image goes through the same Inception batch as in one JVM: the same features, the same digits.
            assertEquals(value(here.out(), k), value(onCluster.out(), k), k + ":\n" + here.out() + "\n" + onCluster.out());
        }
        assertTrue(onCluster.out().contains("(5 samples against 4 reference images"), onCluster.out());
        assertTrue(Double.parseDouble(value(here.out(), "FID")) > 0, here.out());
    }

    @Test
    void aBadMasterUrlIsOneLineBeforeAnythingRuns(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz", 2, 1);
        Path ref = npz(dir, "ref.npz", 2, 2);
        DitRun r = DitRun.of("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--master", "spork://127.0.0.1:7077");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("--master spork://127.0.0.1:7077: not a Spark master URL"), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.all());
        assertFalse(r.out().contains("FID"), r.all());
        DitRun cluster = DitRun.of("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception",
                "random:0", "--master", "spark://127.0.0.1:1", "--deploy-mode", "cluster");
        assertEquals(2, cluster.code(), cluster.all());
        assertTrue(cluster.err().contains("--deploy-mode cluster: dit eval submits in client mode only"), cluster.all());
    }
}
