package dev.ditspark.sparkcommon;

import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.errors.FailureWatch;
import dev.ditspark.core.errors.Failures;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Both halves of "a deterministic failure is not retried", for every job of the project (dit train, dit prepare).
 * In a task, {@link #throwIfDeterministic} turns a failure that the same input would repeat into a
 * {@link DitUserError}; on the driver, this listener watches one job group's failed tasks ({@link FailureWatch})
 * and cancels the group at the first such error, so Spark does not retry a stage or task that would fail the same
 * way. Register before the job, {@link #close()} after it, and end a failed job with
 * {@code watch.toException(what, sparkException)}: one line, the root cause, never Spark's stack trace.
 */
public final class FailFast extends SparkListener implements AutoCloseable {
    private final JavaSparkContext jsc;
    private final String group;
    /** The failed tasks seen so far; {@link FailureWatch#toException} makes the job's one-line error. */
    public final FailureWatch watch = new FailureWatch();

    /** Listens to {@code jsc}'s task ends from now on; {@code group} is the job group it cancels. */
    public FailFast(JavaSparkContext jsc, String group) {
        this.jsc = jsc;
        this.group = group;
        jsc.sc().addSparkListener(this);
    }

    /**
     * In a task: throws a {@link DitUserError} "{@code who}: message" when {@code failure} is deterministic
     * ({@link Failures#isDeterministic}) and not one already; returns otherwise, and the caller rethrows
     * {@code failure} (Spark retries it).
     *
     * @param who what failed, as the user should read it: "rank 3", "shard part-t00012"
     */
    public static void throwIfDeterministic(String who, Throwable failure) {
        if (Failures.isDeterministic(failure) && !(failure instanceof DitUserError)) {
            throw new DitUserError(who + ": " + Failures.message(failure), failure);
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() instanceof ExceptionFailure f) {
            if (watch.taskFailed(f.className(), f.description())) {
                jsc.sc().cancelJobGroup(group);
            }
        } else if (end.reason() instanceof TaskFailedReason r && !r.getClass().getSimpleName().startsWith("TaskKilled")) {
            watch.taskFailed(null, r.toErrorString());
        }
    }

    @Override
    public void close() {
        jsc.sc().removeSparkListener(this);
    }
}
