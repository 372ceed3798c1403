package dev.ditspark.spark;

import dev.ditspark.core.errors.FailureWatch;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Watches one job group's failed tasks (see {@link FailureWatch}) and cancels the group at the first
 * deterministic failure ({@link dev.ditspark.core.errors.DitUserError}), so Spark does not retry a stage that
 * would fail the same way. Register before the job, {@link #close()} after it.
 */
final class FailFast extends SparkListener implements AutoCloseable {
    private final JavaSparkContext jsc;
    private final String group;
    final FailureWatch watch = new FailureWatch();

    FailFast(JavaSparkContext jsc, String group) {
        this.jsc = jsc;
        this.group = group;
        jsc.sc().addSparkListener(this);
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
