package dev.ditspark.core.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;

/**
 * Times whole training steps through the real {@link Trainer} (batch drawn from shards, hybrid loss of
 * {@code GaussianDiffusion}, backward, allreduce of world size 1, finiteness check, AdamW, EMA), not a copy of
 * it: the figure the PyTorch reference's {@code opt.zero_grad(); loss.backward(); opt.step(); update_ema()}
 * loop is compared with (tools/bench/torch_bench.py). The data are {@code batch} random N(0, 1) latents written
 * as a one-shard dataset under {@code workDir}; the final checkpoint the trainer writes after the last step is
 * not timed.
 */
public final class TrainingStepBenchmark {
    private TrainingStepBenchmark() {
    }

    /** A {@code model:} section for {@code cfg} (a custom shape, so named and custom models go the same way). */
    public static ObjectNode modelTree(DiTConfig cfg) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("input_size", cfg.inputSize());
        m.put("patch_size", cfg.patchSize());
        m.put("hidden_size", cfg.hiddenSize());
        m.put("depth", cfg.depth());
        m.put("num_heads", cfg.numHeads());
        m.put("in_channels", cfg.inChannels());
        m.put("num_classes", cfg.numClasses());
        m.put("learn_sigma", cfg.learnSigma());
        m.put("conditioning", cfg.conditioning().id());
        m.put("class_dropout_prob", cfg.classDropoutProb());
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("model", m);
        return root;
    }

    /**
     * Runs {@code warmup + iterations} steps at a per-step batch of {@code batch} on one worker and returns the
     * timed ones.
     *
     * @param config a run config tree (model, and optionally train: lr, EMA decay, ...); data, checkpoint, batch,
     *               step count and threads are set here
     * @param threads libtorch intra-op threads
     * @param workDir an empty directory for the data set and the final checkpoint
     */
    public static StepTimings run(ObjectNode config, int batch, int warmup, int iterations, int threads, Path workDir)
            throws IOException {
        ObjectNode tree = config.deepCopy();
        tree.remove(List.of("data", "checkpoint", "collective"));
        tree.set("data", JsonNodeFactory.instance.objectNode().put("uri", workDir.resolve("data").toUri().toString()));
        tree.set("checkpoint", JsonNodeFactory.instance.objectNode().put("uri", workDir.resolve("ckpt").toUri().toString()));
        long steps = (long) warmup + iterations;
        List<String> overrides = new ArrayList<>(List.of("train.global_batch=" + batch, "train.workers=1",
                "train.max_steps=" + steps, "train.log_every=" + steps, "train.threads=" + threads,
                "checkpoint.every=" + Integer.MAX_VALUE, "checkpoint.keep_last=1",
                "sample.every=0", "eval.every=0")); // the timed steps only: no grids or evaluations at the last one
        if (tree.path("train").has("micro_batch")) {
            ((ObjectNode) tree.get("train")).remove("micro_batch");
        }
        RunConfig run = RunConfig.bind(tree, overrides, "bench step");
        writeRandomData(run.data().uri(), run.model().toDiTConfig(), batch);
        StepTimings.Clock clock = new StepTimings.Clock(warmup, iterations);
        try (Trainer trainer = new Trainer(run, Collective.local(), Device.cpu(), new Configuration())) {
            trainer.run(new TrainingListener() {
                @Override
                public void onStart(long firstStep, long maxSteps) {
                    clock.start();
                }

                @Override
                public void onStep(StepMetrics metrics) {
                    clock.mark();
                }
            });
        }
        return clock.timings();
    }

    /** {@code rows} samples of N(0, 1) latents in the model's shape, labels cycling over its classes. */
    static void writeRandomData(String uri, DiTConfig cfg, int rows) throws IOException {
        List<String> classes = new ArrayList<>();
        for (int c = 0; c < cfg.numClasses(); c++) {
            classes.add("class" + c);
        }
        DatasetManifest layout = DatasetManifest.describe(cfg.inChannels(), cfg.inputSize(), cfg.inputSize(),
                LatentDType.FLOAT32, DatasetManifest.NO_ENCODER, 1.0, cfg.inputSize(), classes, "random (dit bench step)");
        int n = cfg.inChannels() * cfg.inputSize() * cfg.inputSize();
        SplittableRandom rng = new SplittableRandom(0);
        float[] zeros = new float[n];
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout).open()) {
            for (int i = 0; i < rows; i++) {
                float[] mean = new float[n];
                for (int k = 0; k < n; k++) {
                    mean[k] = (float) gaussian(rng);
                }
                w.write(new LatentRecord(i % cfg.numClasses(), mean, zeros, mean, zeros, "random/" + i));
            }
        }
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1.0 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
}
