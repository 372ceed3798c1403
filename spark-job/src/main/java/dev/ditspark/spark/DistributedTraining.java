package dev.ditspark.spark;

import dev.ditspark.core.checkpoint.RunDirectory;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.train.StopRequest;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.HadoopSettings;
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
 * The driver
 * holds the run directory's lease ({@link RunDirectory}) for the whole job. Workers told to stop (SIGTERM, or
 * SIGPWR from Spark's decommissioning, on any executor) agree on a step, checkpoint it and end the stage early;
 * unless the driver itself was told to stop, it then runs the stage again, which resumes from that checkpoint.
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

    /** Consecutive early stops without progress after which the driver gives up. */
    static final int MAX_STOPS_WITHOUT_PROGRESS = 3;

    /**
     * Runs the stage (again after workers stopped early, see above) and returns each rank's result, ordered by
     * rank; a final step below train.max_steps means this driver was asked to stop.
     *
     * @throws DitUserError a deterministic failure, its message naming the rank and the file or field
     * @throws dev.ditspark.core.errors.JobFailedException the stage failed on every attempt; the root cause
     */
    public static List<WorkerResult> run(JavaSparkContext jsc, RunConfig config) {
        return run(jsc, config, WorkerListeners.NONE);
    }

    /**
     * {@link #run(JavaSparkContext, RunConfig)} with {@code listeners} added to every worker's training (on the
     * executors; tests inject failures with them).
     */
    public static List<WorkerResult> run(JavaSparkContext jsc, RunConfig config, WorkerListeners listeners) {
        try (RunDirectory claim = RunDirectory.claim(config, jsc.hadoopConfiguration())) {
            TrainingMetricsSource.of(jsc).restart(); // the gauges follow this run from its first logged step
            long reached = -1;
            int stalled = 0;
            while (true) {
                List<WorkerResult> results = runStage(jsc, claim.config(), listeners);
                long step = results.get(0).finalStep();
                if (step >= config.train().maxSteps() || StopRequest.reason() != null) {
                    return results;
                }
                stalled = step > reached ? 0 : stalled + 1;
                if (stalled >= MAX_STOPS_WITHOUT_PROGRESS) {
                    throw new IllegalStateException("the workers stopped at step " + step + " " + (stalled + 1)
                            + " times in a row without progress (executors decommissioned or terminated); the run's "
                            + "checkpoints are in " + config.checkpoint().uri() + ": resubmit to resume");
                }
                reached = step;
                LOG.warn("the workers stopped at step {} of {} (an executor was decommissioned or terminated); running the "
                        + "stage again from that checkpoint", step, config.train().maxSteps());
            }
        }
    }

    /**
     * The job's description in the Spark UI: {@code dit train: DiT-XL/2 steps 1200–400000 on 8 workers}, from the
     * newest committed checkpoint (the stage resumes there) to train.max_steps. No URI, so no secret, reaches it.
     */
    static String description(JavaSparkContext jsc, RunConfig config) {
        long from;
        try {
            from = dev.ditspark.core.checkpoint.CheckpointStore.open(config.checkpoint().uri(), jsc.hadoopConfiguration())
                    .latestStep().orElse(0);
        } catch (RuntimeException e) {
            from = 0; // the stage itself reports an unreadable run directory
        }
        int workers = config.train().workers();
        return "dit train: " + (config.model().name() != null ? config.model().name() : "custom DiT") + " steps " + from
                + "\u2013" + config.train().maxSteps() + " on " + workers + (workers == 1 ? " worker" : " workers");
    }

    /** A cluster's executors run executor.cores / task.cpus workers, each reading within data.memory_mb of the heap. */
    static void warnIfTheReadersCannotFit(JavaSparkContext jsc, RunConfig config) {
        org.apache.spark.SparkConf conf = jsc.getConf();
        if (jsc.isLocal() || !conf.contains("spark.executor.memory")) {
            return; // local: the workers' JVM is this one, which each Trainer checks
        }
        int tasks = Math.max(1, conf.getInt("spark.executor.cores", 1) / conf.getInt("spark.task.cpus", 1));
        long budget = config.data().memoryBytes();
        // MiB, not bytes: Spark reads a bare spark.executor.memory such as 16384 as MiB (dit info reads it so too).
        String w = dev.ditspark.core.data.LatentStream.heapWarning(budget, tasks, tasks * budget,
                conf.getSizeAsMb("spark.executor.memory") << 20, "spark.executor.memory, for " + tasks + " tasks per executor");
        if (w != null) {
            LOG.warn(w);
        }
    }

    private static List<WorkerResult> runStage(JavaSparkContext jsc, RunConfig config, WorkerListeners listeners) {
        int workers = config.train().workers();
        LOG.info("training {} on {} workers ({} backend), checkpoints at {}", config.model().name() != null
                ? config.model().name() : "a custom DiT", workers, config.collective().backend(), config.checkpoint().uri());
        warnIfTheReadersCannotFit(jsc, config);
        ClassTag<WorkerResult> tag = ClassTag$.MODULE$.apply(WorkerResult.class);
        ProgressAccumulator progress = new ProgressAccumulator();
        jsc.sc().register(progress, "dit training progress");
        TrainingMetricsSource source = TrainingMetricsSource.of(jsc);
        org.apache.spark.scheduler.SparkListener feed = source.listener(progress);
        jsc.sc().addSparkListener(feed);
        TrainingTask task = new TrainingTask(config, new HadoopSettings(jsc.hadoopConfiguration()), progress,
                listeners);
        WorkerResult[] results;
        String group = "dit-train-" + java.util.UUID.randomUUID();
        jsc.setJobGroup(group, description(jsc, config), true);
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
            jsc.sc().removeSparkListener(feed);
            source.update(progress.value()); // merged at the tasks' ends, before the job returned
        }
        Arrays.sort(results, Comparator.comparingInt(WorkerResult::rank));
        for (WorkerResult r : results) {
            LOG.info("rank {} finished at step {} (loss {}) on {} via {}", r.rank(), r.finalStep(), r.lastLoss(),
                    r.device(), r.backend());
        }
        return List.of(results);
    }
}
