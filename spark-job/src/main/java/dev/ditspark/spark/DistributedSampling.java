package dev.ditspark.spark;

import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.HadoopSettings;
import dev.ditspark.core.sample.SampleChunks;
import dev.ditspark.core.sample.SampleOutput;
import dev.ditspark.core.sample.SamplePlan;
import dev.ditspark.core.sample.SamplingSteps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code dit sample} on Spark: the chunks of a {@link SamplePlan} that its output directory does not hold yet are
 * spread over {@code workers} tasks (one GPU each where the executors have GPUs, spark.task.resource.gpu.amount=1),
 * each writing its chunks to OUT/chunks on any Hadoop FileSystem; then the driver joins them into OUT/samples.npz
 * and OUT/grid.png. Sample i's noise and label depend only on (seed, i), and every chunk is sampled with the same
 * batch, so the output is the same bytes for any number of workers. A failed task is retried by Spark and skips
 * the chunks it finished; a rerun of a killed request samples only the missing chunks. A deterministic failure
 * (bad weights, VAE or output: {@link DitUserError} from a task) ends the job at once, as one line.
 */
public final class DistributedSampling {
    private static final Logger LOG = LogManager.getLogger(DistributedSampling.class);
    /** How often the driver counts finished chunks for its progress line (ms). */
    static final String PROGRESS_EVERY = "dit.sample.progressMillis";

    private DistributedSampling() {
    }

    /** What a run did: chunks sampled now, chunks resumed from an earlier run, the tasks' lines. */
    public record Result(int sampled, int resumed, List<String> tasks) {
    }

    /**
     * Samples the plan's missing chunks on {@code workers} tasks and writes the plan's samples.npz and grid.png.
     *
     * @param log the driver's lines: progress ("sample: 40% (…), 21.3 samples/s, about 30m left") and notices
     * @throws DitUserError a deterministic failure in a task or on the driver, one line naming the file or option
     * @throws dev.ditspark.core.errors.JobFailedException the job failed on every attempt: the root cause
     */
    public static Result run(JavaSparkContext jsc, SamplePlan plan, int workers, Consumer<String> log) {
        return run(jsc, plan, workers, log, SamplingListeners.NONE);
    }

    /**
     * As {@link #run(JavaSparkContext, SamplePlan, int, Consumer)}, with {@code listeners} added to every task's
     * chunks (tests inject task failures this way).
     */
    public static Result run(JavaSparkContext jsc, SamplePlan plan, int workers, Consumer<String> log,
            SamplingListeners listeners) {
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: must be at least 1, got " + workers);
        }
        Configuration hadoop = jsc.hadoopConfiguration();
        SampleChunks chunks;
        List<Integer> missing = new ArrayList<>();
        int done = 0;
        try {
            chunks = SampleChunks.open(plan.chunksLocation(), hadoop, plan.request(), log);
            Set<String> have = new HashSet<>();
            for (int[] c : chunks.finished()) {
                have.add(SampleChunks.name(c[0], c[1]));
            }
            for (int k = 0; k < plan.chunks(); k++) {
                if (have.contains(SampleChunks.name(plan.chunkStart(k), plan.chunkStart(k) + plan.chunkSize(k)))) {
                    done += plan.chunkSize(k);
                } else {
                    missing.add(k);
                }
            }
        } catch (IOException e) {
            throw new DitUserError("--out " + plan.out() + ": cannot write the chunks there: " + e.getMessage(), e);
        }
        int resumed = plan.chunks() - missing.size();
        List<String> lines = List.of();
        if (!missing.isEmpty()) {
            int tasks = Math.min(workers, missing.size());
            LOG.info("sampling {} chunks of {} samples on {} tasks ({} resumed)", missing.size(), plan.batch(), tasks, resumed);
            String group = "dit-sample-" + java.util.UUID.randomUUID();
            jsc.setJobGroup(group, "dit sample: " + plan.count() + " samples (" + SamplingSteps.describe(plan.sampler(), plan.steps()) + ", cfg "
                    + plan.cfgScale() + ") on " + tasks + (tasks == 1 ? " worker" : " workers"), true);
            FailFast failures = new FailFast(jsc, group);
            long every = Long.parseLong(jsc.getConf().get(PROGRESS_EVERY, "5000"));
            try (SamplingProgress progress = new SamplingProgress(chunks, plan.count(), done, every, log)) {
                // Round-robin: every task gets early and late chunks alike, so all end about together.
                List<Integer> order = new ArrayList<>();
                for (int t = 0; t < tasks; t++) {
                    for (int i = t; i < missing.size(); i += tasks) {
                        order.add(missing.get(i));
                    }
                }
                lines = jsc.parallelize(order, tasks).mapPartitions(new SamplingTask(plan, new HadoopSettings(hadoop), listeners))
                        .collect();
                progress.poll();
            } catch (Exception e) { // Scala throws SparkException undeclared
                if (e instanceof SparkException) {
                    throw failures.watch.toException("sampling on " + tasks + " workers", e);
                }
                throw e;
            } finally {
                failures.close();
                jsc.clearJobGroup();
            }
            lines.forEach(l -> LOG.info("{}", l));
        }
        try {
            SampleOutput.assemble(plan, hadoop);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return new Result(missing.size(), resumed, lines);
    }

    /** The closing line: what was written where ({@link SampleOutput#summary}). */
    public static String summary(SamplePlan plan, Result r, double seconds) {
        return SampleOutput.summary(plan, r.resumed(), seconds);
    }

    /**
     * {@code --workers N} without a cluster: the plan on the tasks of an embedded local[N] Spark in this JVM (a failed
     * task is retried and skips its finished chunks), then the closing line on {@code log}.
     */
    public static Result runLocal(SamplePlan plan, int workers, Consumer<String> log) {
        long t0 = System.nanoTime();
        try (JavaSparkContext jsc = new JavaSparkContext(LocalSpark.conf("dit-sample", workers))) {
            Result r = run(jsc, plan, workers, log);
            log.accept(summary(plan, r, (System.nanoTime() - t0) / 1e9));
            return r;
        }
    }
}
