package dev.ditspark.spark;

import dev.ditspark.core.train.TrainingListener;
import java.io.Serializable;

/**
 * Listeners the caller of {@link DistributedTraining#run(org.apache.spark.api.java.JavaSparkContext,
 * dev.ditspark.core.config.RunConfig, WorkerListeners)} adds to every worker's training: called on the executor,
 * once per rank and stage attempt. It travels inside the task, so it must be serializable and its class on the
 * executors' class path. Tests inject worker failures with one; production code passes {@link #NONE}.
 */
@FunctionalInterface
public interface WorkerListeners extends Serializable {
    /** No extra listener. */
    WorkerListeners NONE = worker -> TrainingListener.NONE;

    /** Which worker a listener is for: its rank of {@code world}, and the barrier stage's attempt (0 first). */
    record Worker(int rank, int world, int stageAttempt) {
    }

    /** The listener for {@code worker}'s training ({@link TrainingListener#NONE} for none). */
    TrainingListener forWorker(Worker worker);
}
