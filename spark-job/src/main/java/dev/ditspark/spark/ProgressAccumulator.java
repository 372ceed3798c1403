package dev.ditspark.spark;

import org.apache.spark.util.AccumulatorV2;

/**
 * Carries rank 0's latest {@link TrainingProgress} from the training task to the driver: Spark sends a running
 * task's accumulators with each executor heartbeat (spark.executor.heartbeatInterval, 10 s by default) and with
 * the task's end, on a cluster as in local mode. "Latest" is the highest step: merging keeps it.
 */
final class ProgressAccumulator extends AccumulatorV2<TrainingProgress, TrainingProgress> {
    private static final long serialVersionUID = 1L;

    private TrainingProgress latest;

    @Override
    public boolean isZero() {
        return latest == null;
    }

    @Override
    public ProgressAccumulator copy() {
        ProgressAccumulator c = new ProgressAccumulator();
        c.latest = latest;
        return c;
    }

    @Override
    public void reset() {
        latest = null;
    }

    @Override
    public synchronized void add(TrainingProgress p) {
        if (p != null && (latest == null || p.step() >= latest.step())) {
            latest = p;
        }
    }

    @Override
    public void merge(AccumulatorV2<TrainingProgress, TrainingProgress> other) {
        add(other.value());
    }

    /** The latest progress, or null before the first logged step. */
    @Override
    public synchronized TrainingProgress value() {
        return latest;
    }
}
