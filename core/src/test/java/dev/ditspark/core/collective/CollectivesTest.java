package dev.ditspark.core.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.config.CollectiveSpec;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.errors.DitUserError;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The backend choice from a config section, through a rendezvous of threads in this JVM (as Spark's allGather). */
class CollectivesTest {

    /** W ranks as threads: allGather is a barrier around a shared array. */
    private static final class ThreadRendezvous {
        final String[] slots;
        final CyclicBarrier barrier;

        ThreadRendezvous(int world) {
            slots = new String[world];
            barrier = new CyclicBarrier(world);
        }

        Rendezvous rank(int rank) {
            return new Rendezvous() {
                @Override
                public int rank() {
                    return rank;
                }

                @Override
                public int worldSize() {
                    return slots.length;
                }

                @Override
                public String host() {
                    return "127.0.0.1";
                }

                @Override
                public List<String> allGather(String value) {
                    try {
                        slots[rank] = value;
                        barrier.await(20, TimeUnit.SECONDS);
                        List<String> all = List.copyOf(Arrays.asList(slots));
                        barrier.await(20, TimeUnit.SECONDS); // nobody overwrites a slot before all have read
                        return all;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
        }
    }

    @Test
    void tcpFromTheConfigAveragesAcrossTheRanksWithItsDtype() throws Exception {
        int world = 3;
        ThreadRendezvous rv = new ThreadRendezvous(world);
        CollectiveSpec spec = new CollectiveSpec("tcp", 20, 1, "bf16");
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (Collective c = Collectives.connect(spec, rv.rank(rank), Device.cpu());
                            NDManager m = TorchEngine.newManager()) {
                        assertEquals("tcp", c.backend());
                        assertEquals(rank, c.rank());
                        assertEquals(world, c.worldSize());
                        assertEquals(AllreduceDtype.BF16, ((TcpCollective) c).options().allreduceDtype());
                        assertEquals(1L << 20, ((TcpCollective) c).options().bucketBytes());
                        NDArray x = m.create(new float[] {rank, 2 * rank, 0.5f});
                        c.allreduceMean(List.of(x));
                        return x.toFloatArray();
                    }
                }));
            }
            for (Future<float[]> f : results) {
                // mean of ranks 0, 1, 2 = 1; of 0, 2, 4 = 2; values exact in bf16
                assertArrayEquals(new float[] {1f, 2f, 0.5f}, f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void ncclOnACpuWorkerIsOneLineNamingTheSetting() {
        DitUserError e = assertThrows(DitUserError.class, () -> Collectives.connect(
                new CollectiveSpec("nccl", null, null, null), new ThreadRendezvous(2).rank(1), Device.cpu()));
        assertEquals("rank 1: collective.backend: nccl needs one GPU per task (spark.task.resource.gpu.amount=1); this "
                + "task has none. Use tcp on CPU executors (--set collective.backend=tcp).", e.getMessage());
    }

    /** On a machine with CUDA and NCCL: one rank on GPU 0 through the same call (skipped elsewhere). */
    @Test
    void ncclFromTheConfigOnAGpu() {
        assumeTrue(NcclCollective.unavailableReason() == null, "no CUDA GPU with NCCL here");
        try (Collective c = Collectives.connect(new CollectiveSpec("nccl", 20, null, "bf16"),
                new ThreadRendezvous(1).rank(0), Device.gpu(0));
                NDManager m = TorchEngine.newManager(Device.gpu(0))) {
            assertEquals("nccl", c.backend());
            assertEquals(AllreduceDtype.BF16, ((NcclCollective) c).allreduceDtype());
            NDArray x = m.create(new float[] {1f, 2f, 0.5f});
            c.allreduceMean(List.of(x));
            assertArrayEquals(new float[] {1f, 2f, 0.5f}, x.toFloatArray());
        }
    }
}
