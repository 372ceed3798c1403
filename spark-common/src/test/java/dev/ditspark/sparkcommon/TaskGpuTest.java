package dev.ditspark.sparkcommon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one task-GPU lookup of both jobs. dit prepare used to parse the address untrimmed and training trimmed it:
 * an address with blanks (as a hand-written discovery script may print) put prepare's tasks out with a
 * NumberFormatException while training ran.
 */
class TaskGpuTest {

    @TempDir
    Path dir;

    private static ResourceInformation gpus(String... addresses) {
        return new ResourceInformation(TaskGpu.RESOURCE, addresses);
    }

    @Test
    void noGpuResourceMeansTheCpu() {
        assertEquals(Device.cpu(), TaskGpu.fromAddresses(null));
        assertEquals(Device.cpu(), TaskGpu.fromAddresses(gpus()));
        assertEquals(Device.cpu(), TaskGpu.current(), "outside a task");
    }

    @Test
    void theAddressIsTheCudaOrdinalBlanksIgnored() {
        assertEquals(Device.gpu(3), TaskGpu.fromAddresses(gpus("3")));
        assertEquals(Device.gpu(3), TaskGpu.fromAddresses(gpus(" 3\n")));
        assertEquals(Device.gpu(0), TaskGpu.fromAddresses(gpus("\t0 ")));
    }

    @Test
    void moreThanOneGpuOrANonOrdinalIsOneClearLine() {
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
                () -> TaskGpu.fromAddresses(gpus("0", "1")));
        assertEquals("spark.task.resource.gpu.amount: a dit task uses one GPU, this one was given 2 (0,1); set it to 1",
                two.getMessage());
        for (String bad : List.of("GPU-5f3c1a2b", "-1", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TaskGpu.fromAddresses(gpus(bad)));
            assertTrue(e.getMessage().startsWith("spark.executor.resource.gpu.discoveryScript: GPU address '" + bad
                    + "' is not a CUDA device number"), e.getMessage());
        }
    }

    /**
     * A real Spark task given a GPU by a discovery script that pads the address with blanks: the task's device is
     * that GPU (no GPU is touched, only the choice runs).
     */
    @Test
    void aSparkTaskTakesItsAssignedGpu() throws Exception {
        Path script = dir.resolve("gpus.sh");
        Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\":\"gpu\",\"addresses\":[\" 5 \"]}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        SparkConf conf = new SparkConf().setMaster("local[1]").setAppName("task-gpu-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.driver.resource.gpu.amount", "1")
                .set("spark.driver.resource.gpu.discoveryScript", script.toString())
                .set("spark.executor.resource.gpu.amount", "1")
                .set("spark.executor.resource.gpu.discoveryScript", script.toString())
                .set("spark.task.resource.gpu.amount", "1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<String> devices = sc.parallelize(List.of(1), 1).map(i -> TaskGpu.current().toString()).collect();
            assertEquals(List.of(Device.gpu(5).toString()), devices);
        }
    }
}
