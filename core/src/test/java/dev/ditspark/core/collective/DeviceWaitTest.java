package dev.ditspark.core.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The NCCL wait loop without NCCL (no GPU here): the poll stands in for cudaStreamQuery / ncclCommGetAsyncError,
 * the failure for ncclCommAbort + throw. What is checked is the loop's own logic: when it gives up and what it says.
 */
class DeviceWaitTest {
    private static final long LONG = 60_000_000_000L;

    private final List<String> aborts = new ArrayList<>();

    private RuntimeException abort(String message) {
        aborts.add(message);
        return new CollectiveException(message);
    }

    @Test
    void returnsWhenThePollSaysDone() {
        AtomicInteger polls = new AtomicInteger();
        DeviceWait.await("allreduce", System.nanoTime(), LONG, () -> false, () -> polls.incrementAndGet() == 3,
                this::abort);
        assertEquals(3, polls.get());
        assertEquals(List.of(), aborts);
    }

    @Test
    void anInterruptedThreadAbortsAtOnceAndKeepsItsStatus() {
        Thread.currentThread().interrupt();
        try {
            CollectiveException e = assertThrows(CollectiveException.class, () -> DeviceWait.await("allreduce",
                    System.nanoTime(), LONG, () -> false, () -> false, this::abort));
            assertEquals("allreduce: interrupted (the task was killed); the communicator is aborted", e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
        assertEquals(1, aborts.size());
    }

    @Test
    void aCancelledTaskAbortsWithoutAnInterrupt() {
        AtomicInteger polls = new AtomicInteger();
        assertThrows(CollectiveException.class, () -> DeviceWait.await("broadcast from rank 0", System.nanoTime(), LONG,
                () -> polls.get() >= 5, () -> {
                    polls.incrementAndGet();
                    return false;
                }, this::abort));
        assertEquals(5, polls.get());
        assertEquals(List.of("broadcast from rank 0: interrupted (the task was killed); the communicator is aborted"),
                aborts);
    }

    @Test
    void pastTheDeadlineItAbortsNamingTheTimeout() {
        long t0 = System.nanoTime();
        assertThrows(CollectiveException.class, () -> DeviceWait.await("barrier", t0, 200_000_000L, () -> false,
                () -> false, this::abort));
        double waited = (System.nanoTime() - t0) / 1e9;
        assertTrue(waited >= 0.2 && waited < 5, "gave up after " + waited + " s");
        assertEquals(List.of("barrier did not complete within 0.2 s (a peer is dead, stuck, or slower than"
                + " collective.timeout_seconds)"), aborts);
    }
}
