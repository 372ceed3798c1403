package dev.ditspark.spark;

import dev.ditspark.core.sample.SampleModel;
import java.io.Serializable;

/**
 * Listeners the caller of {@link DistributedSampling#run(org.apache.spark.api.java.JavaSparkContext,
 * dev.ditspark.core.sample.SamplePlan, int, java.util.function.Consumer, SamplingListeners)} adds to every sampling
 * task: called on the executor, once per task attempt, before its first chunk. It travels inside the task, so it must
 * be serializable and its class on the executors' class path. Tests inject task failures with one; production code
 * passes {@link #NONE}. The sampling counterpart of {@link WorkerListeners}.
 */
@FunctionalInterface
public interface SamplingListeners extends Serializable {
    /** No extra listener. */
    SamplingListeners NONE = task -> new SampleModel.ChunkProgress() { };

    /** Which task a listener is for: its partition (task number) and Spark's attempt number (0 first). */
    record Task(int partition, int attempt) {
    }

    /** The listener for {@code task}'s chunks (a {@link SampleModel.ChunkProgress} with no overrides for none). */
    SampleModel.ChunkProgress forTask(Task task);
}
