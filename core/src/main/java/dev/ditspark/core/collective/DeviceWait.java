package dev.ditspark.core.collective;

import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The polling loop behind every NCCL wait: asks {@code poll} until it reports completion, and gives up through
 * {@code fail} (which aborts the communicator and throws) when the deadline passes or the work is cancelled: the
 * calling thread is interrupted (Spark's task kill) or {@code cancelled} says so (Spark's
 * {@code TaskContext.isInterrupted()}). A killed task so stops at once instead of spinning until
 * {@code collective.timeout_seconds}. The interrupt status is left set for the caller.
 */
final class DeviceWait {
    /** One poll: true when the awaited work is complete; throws (through {@code fail}) on an error. */
    interface Poll {
        boolean done();
    }

    /** Aborts and throws; never returns normally. */
    interface Failure {
        RuntimeException fail(String message);
    }

    private DeviceWait() {
    }

    static void await(String what, long startNanos, long timeoutNanos, BooleanSupplier cancelled, Poll poll,
            Failure failure) {
        long spins = 0;
        while (!poll.done()) {
            if (Thread.currentThread().isInterrupted() || cancelled.getAsBoolean()) {
                throw failure.fail(what + ": interrupted (the task was killed); the communicator is aborted");
            }
            if (System.nanoTime() - startNanos > timeoutNanos) {
                throw failure.fail(String.format(Locale.ROOT, "%s did not complete within %.1f s (a peer is dead, stuck,"
                        + " or slower than collective.timeout_seconds)", what, timeoutNanos / 1e9));
            }
            // Spin first (NCCL kernels usually finish within microseconds of the last byte), then yield the core.
            if (++spins < 10_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
