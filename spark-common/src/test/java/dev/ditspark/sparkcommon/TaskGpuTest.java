package dev.ditspark.sparkcommon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.List;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/**
 * The one task-GPU lookup of both jobs. dit prepare used to parse the address untrimmed and training trimmed it:
 * an address with blanks (as a hand-written discovery script may print) put prepare's tasks out with a
 * NumberFormatException while training ran. (Spark's local mode schedules no task that asks for a GPU, so the
 * lookup from a real task context is covered by spark-job's GpuTaskPlacementTest, on local-cluster Spark.)
 */
class TaskGpuTest {

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
}
