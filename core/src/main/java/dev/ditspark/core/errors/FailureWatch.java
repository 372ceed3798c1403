package dev.ditspark.core.errors;

/**
 * What a driver learns from its job's failed tasks (fed by a Spark listener; Spark-free so both jobs share it):
 * the first deterministic failure, which ends the job at once (the caller cancels it, so no stage is retried),
 * and the last failure of any kind, the root cause to print when the job ends failed. Thread-safe.
 */
public final class FailureWatch {
    private String deterministic;
    private String last;
    private int failures;

    /**
     * Records one failed task.
     *
     * @param className the task's exception class (null for a lost executor or a killed task)
     * @param message its message, or Spark's description of the loss
     * @return true when this failure is deterministic and the first such: the caller cancels the job now
     */
    public synchronized boolean taskFailed(String className, String message) {
        failures++;
        String line = Failures.firstLine(message);
        last = line;
        if (DitUserError.class.getName().equals(className) && deterministic == null) {
            deterministic = line;
            return true;
        }
        return false;
    }

    /** The first deterministic failure's message, or null. */
    public synchronized String deterministic() {
        return deterministic;
    }

    /** The last failure's message, or null. */
    public synchronized String last() {
        return last;
    }

    public synchronized int failures() {
        return failures;
    }

    /**
     * The exception that ends a failed job: a {@link DitUserError} with the deterministic failure's line, else a
     * {@link JobFailedException} naming {@code what}, the number of failed tasks and the last root cause.
     */
    public synchronized RuntimeException toException(String what, Throwable sparkFailure) {
        if (deterministic != null) {
            return new DitUserError(deterministic);
        }
        String cause = last != null ? last : Failures.message(sparkFailure);
        return new JobFailedException(what + " failed" + (failures > 0 ? " (" + failures + " failed task"
                + (failures == 1 ? "" : "s") + ")" : "") + ": " + cause);
    }
}
