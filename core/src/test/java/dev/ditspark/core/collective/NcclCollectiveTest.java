package dev.ditspark.core.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The nccl backend: a clear, fast refusal without a GPU; a one-rank communicator on a GPU. */
class NcclCollectiveTest {

    @Test
    void withoutAGpuItFailsFastSayingWhatIsMissing() {
        assumeTrue(NcclCollective.unavailableReason() != null, "this machine has CUDA and NCCL");
        IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> assertThrows(IllegalStateException.class, NcclCollective::newUniqueId));
        assertTrue(e.getMessage().startsWith("nccl backend needs a CUDA GPU and libnccl.so.2; none found: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("; use collective.backend: tcp"), e.getMessage());
        IllegalStateException again = assertThrows(IllegalStateException.class,
                () -> NcclCollective.create(0, 1, new byte[128], 0, Duration.ofSeconds(1)));
        assertTrue(again.getMessage().equals(e.getMessage()), again.getMessage());
    }

    @Test
    void onAGpuASingleRankCommunicatorAveragesAndBroadcastsInPlace() {
        assumeTrue(NcclCollective.unavailableReason() == null, "no CUDA GPU with NCCL here");
        try (NcclCollective c = NcclCollective.create(0, 1, NcclCollective.newUniqueId(), 0, Duration.ofSeconds(30));
                NDManager m = TorchEngine.newManager(Device.gpu(0))) {
            NDArray a = m.create(new float[] {1, 2, 3});
            NDArray b = m.create(new float[] {-4});
            c.allreduceMean(List.of(a, b));
            c.broadcast(List.of(a, b), 0);
            c.barrier();
            assertArrayEquals(new float[] {1, 2, 3}, a.toFloatArray());
            assertArrayEquals(new float[] {-4}, b.toFloatArray());
        }
    }
}
