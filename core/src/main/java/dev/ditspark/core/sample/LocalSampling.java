package dev.ditspark.core.sample;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code dit sample} with one worker in this JVM: the plan's chunks one after another (those a killed earlier run
 * finished are reused), then samples.npz and grid.png. The Spark path ({@code DistributedSampling}) writes the same
 * bytes.
 */
public final class LocalSampling {
    private LocalSampling() {
    }

    /** Told as the work goes, in sample-steps (samples × respaced steps). */
    public interface Progress {
        /** Before the first step: {@code done} of {@code total} sample-steps are in chunks of an earlier run. */
        void start(long done, long total);

        /**
         * @param done sample-steps done, resumed chunks included
         * @param samplesPerSecond samples (fractions of a chunk included) sampled now, per second since the start
         */
        void update(long done, double samplesPerSecond);
    }

    /** What a run did: chunks sampled now, chunks reused from an earlier run. */
    public record Result(int sampled, int resumed) {
    }

    /**
     * Samples the missing chunks with {@code model} and assembles the output.
     *
     * @param notices lines about the chunks directory (a request that differs from the one found there)
     * @throws IOException a chunk or the output cannot be written
     */
    public static Result run(SamplePlan plan, SampleModel model, Configuration hadoop, Consumer<String> notices,
            Progress progress) throws IOException {
        SampleChunks chunks = SampleChunks.open(plan.chunksLocation(), hadoop, plan.request(), notices);
        int total = model.stepsPerSample();
        List<Integer> todo = new ArrayList<>();
        long resumedSamples = 0;
        for (int k = 0; k < plan.chunks(); k++) {
            if (chunks.has(plan.chunkStart(k), plan.chunkSize(k))) {
                resumedSamples += plan.chunkSize(k);
            } else {
                todo.add(k);
            }
        }
        long resumed = resumedSamples;
        long all = (long) plan.count() * total;
        progress.start(resumed * total, all);
        long started = System.nanoTime();
        long[] finished = {resumed};
        model.sampleMissing(chunks, todo.stream().mapToInt(Integer::intValue).toArray(), new SampleModel.ChunkProgress() {
            @Override
            public void onStep(int k, int n, int step, int steps) {
                progress.update(finished[0] * total + (long) step * n, rate(finished[0] - resumed + (double) step * n / steps));
            }

            @Override
            public void onChunk(int k, int n) {
                finished[0] += n;
                progress.update(finished[0] * total, rate(finished[0] - resumed));
            }

            private double rate(double samples) {
                return samples / ((System.nanoTime() - started) / 1e9);
            }
        });
        SampleOutput.assemble(plan, hadoop);
        return new Result(todo.size(), plan.chunks() - todo.size());
    }
}
