package dev.ditspark.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.HadoopSettings;
import dev.ditspark.sparkcommon.TaskGpu;
import dev.ditspark.core.errors.Failures;
import dev.ditspark.core.sample.SampleChunks;
import dev.ditspark.core.sample.SampleModel;
import dev.ditspark.core.sample.SamplePlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * One {@code dit sample} worker: a Spark task given some chunk numbers of a {@link SamplePlan}. It loads the model
 * once on its device (the GPU Spark assigned to it, else the CPU), samples each of its chunks the output directory
 * does not hold yet and writes it there. A retried task skips what an earlier attempt finished. Returns one line
 * per task: how many chunks it sampled, on which device.
 */
final class SamplingTask implements FlatMapFunction<Iterator<Integer>, String> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LogManager.getLogger(SamplingTask.class);

    private final SamplePlan plan;
    private final HadoopSettings hadoop;
    private final SamplingListeners listeners;

    SamplingTask(SamplePlan plan, HadoopSettings hadoop, SamplingListeners listeners) {
        this.plan = plan;
        this.hadoop = hadoop;
        this.listeners = listeners;
    }

    @Override
    public Iterator<String> call(Iterator<Integer> chunkNumbers) {
        TaskContext ctx = TaskContext.get();
        int task = ctx.partitionId();
        List<Integer> mine = new ArrayList<>();
        chunkNumbers.forEachRemaining(mine::add);
        int[] ks = mine.stream().mapToInt(Integer::intValue).toArray();
        if (ks.length == 0) {
            return List.<String>of().iterator();
        }
        SampleModel.ChunkProgress extra = listeners.forTask(new SamplingListeners.Task(task, ctx.attemptNumber()));
        try {
            Device device = TaskGpu.of(ctx);
            LOG.info("sampling task {}: {} chunks on {} (attempt {})", task, ks.length, device, ctx.attemptNumber());
            SampleChunks chunks = SampleChunks.attach(plan.chunksLocation(), hadoop.toConfiguration());
            try (NDManager manager = TorchEngine.newManager(device)) {
                SampleModel model = SampleModel.load(plan, manager, hadoop.toConfiguration(), SparkFiles::get);
                int sampled = model.sampleMissing(chunks, ks, new SampleModel.ChunkProgress() {
                    @Override
                    public void onStep(int k, int n, int step, int steps) {
                        if (ctx.isInterrupted()) {
                            throw new IllegalStateException("sampling task " + task + ": killed by Spark at chunk " + k);
                        }
                        extra.onStep(k, n, step, steps);
                    }

                    @Override
                    public void onChunk(int k, int n) {
                        extra.onChunk(k, n);
                    }
                });
                return List.of("task " + task + ": " + sampled + " of " + ks.length + " chunks sampled on " + device)
                        .iterator();
            }
        } catch (IOException | RuntimeException e) {
            // The same input fails the same way on every attempt: say so, and the driver ends the job unretried.
            FailFast.throwIfDeterministic("sampling task " + task, e);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("sampling task " + task + ": " + Failures.message(io), io);
            }
            throw (RuntimeException) e;
        }
    }
}
