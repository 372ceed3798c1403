package dev.ditspark.spark;

import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.sparkcommon.FailFast;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The sample side of {@code dit eval --ref ... --workers N} on Spark: the samples' {@code arr_0} rows are split into
 * {@code workers} contiguous ranges of whole Inception batches, one Spark task each ({@link EvaluationTask}, one GPU
 * where the executors have GPUs) computes their FID Inception-v3 pool, spatial and logit features, and the driver
 * joins them in order. Each image goes through the same batch as in one JVM, so the features, and the five
 * numbers {@link dev.ditspark.core.eval.AdmEvaluation#evaluate} computes from them on the driver, are those of
 * {@code dit eval} without {@code --workers} (bitwise on the same device and threads). The reference side stays
 * on the driver (computed once and cached next to the reference, as in one JVM).
 *
 * <p>Every task returns its range's features to the driver: 4 × (2048 + 2023 + 1008) bytes ≈ 20 KB per image,
 * about 1 GB for FID-50K; give the driver's memory and spark.driver.maxResultSize room for that.
 */
public final class DistributedEvaluation {
    private static final Logger LOG = LogManager.getLogger(DistributedEvaluation.class);
    /** {@code --inception random:SEED}: deterministic random weights (tests only). */
    public static final String RANDOM = "random:";

    private DistributedEvaluation() {
    }

    /**
     * The Inception features of every image of {@code samples}' {@code arr_0}, computed on {@code workers} Spark tasks.
     *
     * @param samples a samples .npz every executor reads at this path (local Spark, a shared mount) or shipped
     *     with spark-submit --files under its file name
     * @param inception the FID Inception safetensors (path or shipped file name), or {@code random:SEED}
     * @param batch images per Inception forward (ADM: 64)
     * @param log the driver's lines
     * @return the features in image order, float32 as {@link InceptionFeatures}
     * @throws DitUserError a bad samples file or Inception weights (on the driver or in a task): one line naming it
     * @throws dev.ditspark.core.errors.JobFailedException the job failed on every attempt: the root cause
     */
    public static InceptionFeatures features(JavaSparkContext jsc, Path samples, String inception, int batch,
            int workers, Consumer<String> log) {
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: must be at least 1, got " + workers);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch-size: must be at least 1, got " + batch);
        }
        int images;
        try (NpzFile npz = NpzFile.open(samples)) {
            images = Math.toIntExact(npz.checkImages("arr_0")[0]);
        } catch (IOException e) {
            String m = dev.ditspark.core.errors.Failures.message(e);
            throw new DitUserError("--samples " + (m.contains(samples.toString()) ? m : samples + ": " + m), e);
        }
        int batches = (images + batch - 1) / batch;
        int tasks = Math.min(workers, batches);
        LOG.info("Inception features of {} images in batches of {} on {} tasks", images, batch, tasks);
        String group = "dit-eval-" + java.util.UUID.randomUUID();
        jsc.setJobGroup(group, "dit eval: Inception features of " + images + " samples on " + tasks
                + (tasks == 1 ? " worker" : " workers"), true);
        FailFast failures = new FailFast(jsc, group);
        long t0 = System.nanoTime();
        List<EvaluationTask.Part> parts;
        try {
            parts = jsc.parallelize(IntStream.range(0, tasks).boxed().toList(), tasks)
                    .mapPartitions(new EvaluationTask(samples.toString(), inception, images, batch, tasks))
                    .collect();
        } catch (Exception e) { // Scala throws SparkException undeclared
            if (e instanceof SparkException) {
                throw failures.watch.toException("evaluation on " + tasks + " workers", e);
            }
            throw e;
        } finally {
            failures.close();
            jsc.clearJobGroup();
        }
        List<EvaluationTask.Part> ordered = new ArrayList<>(parts);
        ordered.sort(Comparator.comparingInt(EvaluationTask.Part::first));
        InceptionFeatures all = InceptionFeatures.concat(ordered.stream().map(EvaluationTask.Part::features).toList());
        if (all.count() != images) {
            throw new IllegalStateException("evaluation: the tasks returned " + all.count() + " of " + images + " images");
        }
        double s = (System.nanoTime() - t0) / 1e9;
        log.accept(String.format(Locale.ROOT, "%s arr_0: %d images on %d workers, %.1f images/s",
                samples.getFileName(), images, tasks, images / s));
        return all;
    }
}
