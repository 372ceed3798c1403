package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The cluster layout of conf/spark-defaults.conf on a real (local-cluster) Spark: one executor owning 8 GPUs
 * (addresses from a discovery script, as conf/gpu-discovery.sh reports them from nvidia-smi), one task per GPU,
 * 8 tasks in one barrier stage. Each training task must pick its CUDA device from its own task resources, so the
 * 8 tasks of the executor use the 8 devices, each once. No GPU is touched: only the device choice runs.
 */
@Tag("e2e")
class GpuTaskPlacementTest {

    @TempDir
    Path dir;

    /** What TrainingTask does first in each barrier task: choose its device. */
    static final class ChooseDevice extends AbstractFunction1<Iterator<Integer>, Iterator<String>> implements Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<String> apply(Iterator<Integer> ignored) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            String device = dev.ditspark.sparkcommon.TaskGpu.of(ctx).toString();
            ctx.barrier(); // all 8 at once, as a training stage runs them
            return CollectionConverters.asScala(List.of(device).iterator());
        }
    }

    @Test
    void eightTasksOfOneExecutorTakeEightDifferentGpus() throws Exception {
        Path script = dir.resolve("gpus.sh");
        Files.writeString(script, "#!/usr/bin/env bash\n"
                + "echo '{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\"]}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
        SparkConf conf = TinyRun.localSpark("local-cluster[1,8,1024]")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", "-Dai.djl.offline=true")
                .set("spark.executorEnv.OPT_OUT_TRACKING", "true")
                .set("spark.worker.resource.gpu.amount", "8")
                .set("spark.worker.resource.gpu.discoveryScript", script.toString())
                .set("spark.executor.resource.gpu.amount", "8")
                .set("spark.executor.resource.gpu.discoveryScript", script.toString())
                .set("spark.task.resource.gpu.amount", "1")
                .set("spark.executor.cores", "8")
                .set("spark.task.cpus", "1");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            ClassTag<String> tag = ClassTag$.MODULE$.apply(String.class);
            RDD<String> stage = spark.parallelize(IntStream.range(0, 8).boxed().toList(), 8).rdd().barrier()
                    .mapPartitions(new ChooseDevice(), false, tag);
            List<String> devices = JavaRDD.fromRDD(stage, tag).collect();
            assertEquals(8, devices.size());
            TreeSet<String> distinct = new TreeSet<>(devices);
            assertEquals(8, distinct.size(), "each GPU once: " + devices);
            assertEquals("[gpu(0), gpu(1), gpu(2), gpu(3), gpu(4), gpu(5), gpu(6), gpu(7)]", distinct.toString());
        }
    }
}
