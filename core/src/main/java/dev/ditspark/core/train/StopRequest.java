package dev.ditspark.core.train;

/**
 * A request, from a signal handler (SIGTERM, SIGINT, Spark's decommission signal) or the run's lease, that
 * every {@link Trainer} in this JVM end after the step in flight, write a checkpoint at the step reached and
 * return. Ranks agree on the step through the collective, so a request that reaches one executor stops all.
 */
public final class StopRequest {
    private static volatile String reason;
    private static final java.util.concurrent.atomic.AtomicInteger ACTIVE = new java.util.concurrent.atomic.AtomicInteger();

    private StopRequest() {
    }

    /** Asks the trainers of this JVM to stop; {@code why} appears in the log and the command's last line. */
    public static void request(String why) {
        if (reason == null) {
            reason = why;
        }
    }

    /** Null when no stop was requested. */
    public static String reason() {
        return reason;
    }

    /** Trainers of this JVM inside {@link Trainer#run} now (a signal with none running ends the JVM as usual). */
    public static int activeRuns() {
        return ACTIVE.get();
    }

    static void enter() {
        ACTIVE.incrementAndGet();
    }

    static void exit() {
        ACTIVE.decrementAndGet();
    }

    /** Forgets a handled request (the next run in this JVM trains normally). */
    public static void clear() {
        reason = null;
    }
}
