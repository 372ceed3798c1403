package dev.ditspark.spark;

import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.errors.DitUserError;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The training service on Spark: one barrier stage of train.workers tasks, all scheduled together, one worker
 * each. A failed task fails the stage; Spark retries it and every rank resumes from the newest committed
 * checkpoint (checkpoint.resume), so a retried run ends with the weights of an uninterrupted one. A deterministic
 * failure (bad config or data, no GPU for nccl: {@link DitUserError} from a task) ends the job at once without
 * retries; every failure ends as one exception whose message is the root cause, never Spark's stack trace.
 */
public final class DistributedTraining {
    private static final Logger LOG = LogManager.getLogger(DistributedTraining.class);

    private DistributedTraining() {
    }

    /**
     * Settings a training application needs: fail fast when there are fewer slots than workers (instead of
     * ~10 minutes of barrier retries), and retry the stage when a worker dies.
     */
    public static SparkConf defaults(SparkConf conf) {
        // Local mode has all its slots at once; a cluster's executors register over seconds (pods: minutes).
        String master = conf.get("spark.master", "");
        boolean local = master.equals("local") || master.startsWith("local["); // not local-cluster[...]
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", local ? "1s" : "10s");
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", local ? "3" : "30");
        conf.setIfMissing("spark.stage.maxConsecutiveAttempts", "4");
        return conf;
    }

    /**
     * Runs the stage and returns each rank's result, ordered by rank.
     *
     * @throws DitUserError a deterministic failure, its message naming the rank and the file or field
     * @throws dev.ditspark.core.errors.JobFailedException the stage failed on every attempt; the root cause
     */
    public static List<WorkerResult> run(JavaSparkContext jsc, RunConfig config) {
        int workers = config.train().workers();
        LOG.info("training {} on {} workers ({} backend), checkpoints at {}", config.model().name() != null
                ? config.model().name() : "a custom DiT", workers, config.collective().backend(), config.checkpoint().uri());
        ClassTag<WorkerResult> tag = ClassTag$.MODULE$.apply(WorkerResult.class);
        TrainingTask task = new TrainingTask(config, new HadoopSettings(jsc.hadoopConfiguration()));
        WorkerResult[] results;
        String group = "dit-train-" + java.util.UUID.randomUUID();
        jsc.setJobGroup(group, "dit train: " + workers + " workers", true);
        FailFast failures = new FailFast(jsc, group);
        try {
            // Spark never retries a failed barrier *result* stage (it may have committed output); a shuffle after
            // the workers makes theirs a map stage, which it resubmits up to spark.stage.maxConsecutiveAttempts.
            RDD<WorkerResult> workersStage = jsc.parallelize(IntStream.range(0, workers).boxed().toList(), workers).rdd()
                    .barrier().mapPartitions(task, false, tag);
            results = JavaRDD.fromRDD(workersStage, tag).repartition(1).collect().toArray(new WorkerResult[0]);
        } catch (Exception e) { // Scala throws SparkException undeclared
            if (e instanceof SparkException && String.valueOf(e.getMessage()).contains("SPARK-24819")) {
                throw new DitUserError("train.workers: " + workers + " workers run as one barrier stage and need "
                        + workers + " free task slots at once (one per worker: executors x cores / spark.task.cpus, or one "
                        + "per GPU); the cluster offers fewer. Lower train.workers or add executors.", e);
            }
            if (e instanceof SparkException) {
                throw failures.watch.toException("training on " + workers + " workers", e);
            }
            throw e;
        } finally {
            failures.close();
            jsc.clearJobGroup();
        }
        Arrays.sort(results, Comparator.comparingInt(WorkerResult::rank));
        for (WorkerResult r : results) {
            LOG.info("rank {} finished at step {} (loss {}) on {} via {}", r.rank(), r.finalStep(), r.lastLoss(),
                    r.device(), r.backend());
        }
        return List.of(results);
    }
}
