package dev.ditspark.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.errors.Failures;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.TaskGpu;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * One {@code dit eval --workers} worker: a Spark task given its number t of {@code tasks}. It reads its contiguous
 * range of the samples' {@code arr_0} (whole Inception batches, so every image sees the same batches as in one
 * JVM), runs the FID Inception-v3 on its device (the GPU Spark assigned to it, else the CPU) and returns the
 * features of its range as one {@link Part}.
 */
final class EvaluationTask implements FlatMapFunction<Iterator<Integer>, EvaluationTask.Part> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LogManager.getLogger(EvaluationTask.class);

    /** Task t's features: {@code count} images from image {@code first}, arrays as {@link InceptionFeatures}. */
    record Part(int task, int first, int count, float[] pool, float[] spatial, float[] logits) implements Serializable {
        InceptionFeatures features() {
            return new InceptionFeatures(count, pool, spatial, logits);
        }
    }

    private final String samples;
    private final String inception;
    private final int images;
    private final int batch;
    private final int tasks;

    /**
     * @param samples the samples .npz, a local path every executor reads (or a file shipped with --files)
     * @param inception the FID Inception safetensors (a local path or a shipped file name), or random:SEED
     * @param images N, the samples' count; {@code batch} images per Inception forward
     */
    EvaluationTask(String samples, String inception, int images, int batch, int tasks) {
        this.samples = samples;
        this.inception = inception;
        this.images = images;
        this.batch = batch;
        this.tasks = tasks;
    }

    /** Task t's first image: whole batches split as evenly as they go. */
    static int first(int t, int images, int batch, int tasks) {
        long batches = (images + (long) batch - 1) / batch;
        return (int) Math.min(images, batches * t / tasks * batch);
    }

    @Override
    public Iterator<Part> call(Iterator<Integer> taskNumbers) {
        List<Part> out = new ArrayList<>();
        while (taskNumbers.hasNext()) {
            out.add(run(taskNumbers.next()));
        }
        return out.iterator();
    }

    private Part run(int t) {
        TaskContext ctx = TaskContext.get();
        int from = first(t, images, batch, tasks);
        int to = first(t + 1, images, batch, tasks);
        try {
            Device device = ctx == null ? Device.cpu() : TaskGpu.of(ctx);
            LOG.info("evaluation task {}: images {}..{} on {}", t, from, to, device);
            List<InceptionFeatures> parts = new ArrayList<>();
            try (NDManager manager = TorchEngine.newManager(device)) {
                FidInception net = inception.startsWith(DistributedEvaluation.RANDOM)
                        ? FidInception.random(Long.parseLong(inception.substring(DistributedEvaluation.RANDOM.length())), manager)
                        : FidInception.load(local(inception), manager);
                try (NpzFile npz = NpzFile.open(local(samples))) {
                    int[] at = {0};
                    npz.streamImages("arr_0", batch, (nhwc, count, h, w) -> {
                        if (at[0] >= from && at[0] < to) {
                            parts.add(net.features(nhwc, count, h, w, manager, batch));
                        }
                        at[0] += count;
                        if (at[0] >= to) {
                            throw new Done(); // the rest is other tasks' range
                        }
                    });
                } catch (Done done) {
                    // read up to this task's last image
                }
            }
            InceptionFeatures f = InceptionFeatures.concat(parts);
            if (f.count() != to - from) {
                throw new IOException(samples + ": arr_0 holds fewer images than the " + images + " the driver read");
            }
            return new Part(t, from, f.count(), f.pool(), f.spatial(), f.logits());
        } catch (IOException | RuntimeException e) {
            // The same input fails the same way on every attempt: say so, and the driver ends the job unretried.
            FailFast.throwIfDeterministic("evaluation task " + t, e);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("evaluation task " + t + ": " + Failures.message(io), io);
            }
            throw (RuntimeException) e;
        }
    }

    /** A path as given when this machine has it, else the name of a file shipped with spark-submit --files. */
    private static Path local(String file) {
        Path p = Path.of(file);
        if (Files.exists(p) || TaskContext.get() == null) {
            return p;
        }
        Path shipped = Path.of(SparkFiles.get(p.getFileName().toString()));
        return Files.exists(shipped) ? shipped : p;
    }

    /** Ends the stream after this task's range. */
    private static final class Done extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Done() {
            super(null, null, false, false);
        }
    }
}
