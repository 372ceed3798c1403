package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The barrier-stage training job in a real local Spark: data-parallel equivalence, recovery, clear failures. */
class DataParallelTrainingTest {

    @TempDir
    static Path dir;

    static String data;
    static JavaSparkContext spark;

    @BeforeAll
    static void start() throws Exception {
        data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        // local[2, 4]: two task slots, and a failed task may be retried (the stage is resubmitted).
        spark = new JavaSparkContext(TinyRun.localSpark("local[2,4]"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
    }

    private static String ckpt(String name) {
        return dir.resolve(name).toUri().toString();
    }

    /**
     * 2 workers × 8 images = 1 worker × 16 images: each worker's share (8 of the 16 rows) is its whole batch, so
     * both runs see the same 16 samples each step with the same per-sample draws; only the gradient averaging
     * differs (the mean of two 8-sample means through the ring allreduce, against one 16-sample mean).
     */
    @Test
    void twoWorkersGiveTheWeightsOfOneWorkerWithTheWholeBatch() {
        RunConfig one = TinyRun.config(dir, data, ckpt("one"), List.of("train.global_batch=16"));
        try (Trainer t = new Trainer(one, Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
        }
        RunConfig two = TinyRun.config(dir, data, ckpt("two"), List.of("train.global_batch=16", "train.workers=2"));
        List<WorkerResult> results = DistributedTraining.run(spark, two);
        assertEquals(2, results.size());
        for (WorkerResult r : results) {
            assertEquals(4, r.finalStep());
            assertEquals("tcp", r.backend());
            assertEquals(2, r.worldSize());
        }
        Configuration conf = new Configuration();
        for (String file : List.of("model", "ema", "optimizer")) {
            Map<String, float[]> expected = TinyRun.tensors(ckpt("one"), conf, 4, file);
            Map<String, float[]> actual = TinyRun.tensors(ckpt("two"), conf, 4, file);
            TinyRun.assertClose(expected, actual, 1e-6);
        }
        // And the weights moved: this is not two untrained models agreeing.
        Map<String, float[]> start = TinyRun.tensors(ckpt("two"), conf, 2, "model");
        Map<String, float[]> end = TinyRun.tensors(ckpt("two"), conf, 4, "model");
        assertTrue(!java.util.Arrays.equals(start.get("final_layer.linear.weight"), end.get("final_layer.linear.weight")));
    }

    /**
     * The equivalence that holds beyond one batch per epoch (issue 12): W workers × b draw the global batches of one
     * worker × W·b reading as many data streams with W times the budget. 400 rows in 20-row shards, windows of ~40
     * rows per stream, 12 steps: the batches cross windows; one worker reading a single stream trains differently.
     */
    @Test
    void twoWorkersGiveTheWeightsOfOneWorkerReadingTwoStreams() throws Exception {
        String many = dir.resolve("fmnist-400").toUri().toString();
        FashionMnist.Images fm = FashionMnist.installed().readImages(FashionMnist.Split.TRAIN, 400);
        var layout = dev.ditspark.core.data.DatasetManifest.describe(1, 28, 28, dev.ditspark.core.data.LatentDType.FLOAT32,
                dev.ditspark.core.data.DatasetManifest.NO_ENCODER, 1.0, 28, FashionMnist.CLASS_NAMES, "fashion-mnist/train");
        float[] zeros = new float[784];
        try (var w = dev.ditspark.core.data.LatentShardWriter.to(many, layout).rowsPerShard(20).open()) {
            for (int i = 0; i < fm.count(); i++) {
                float[] img = fm.image(i);
                w.write(new dev.ditspark.core.data.LatentRecord(fm.labels()[i], img, zeros, FashionMnist.mirror(img, 28, 28),
                        zeros, "fm/" + i));
            }
        }
        List<String> common = List.of("train.global_batch=8", "train.max_steps=12", "checkpoint.every=12");
        RunConfig one = TinyRun.config(dir, many, ckpt("one-s2"), concat(common, "data.streams=2", "data.memory_mb=4"));
        try (Trainer t = new Trainer(one, Collective.local(), Device.cpu(), new Configuration())) {
            assertTrue(t.data().windowRows() < 48, t.data().windowRows() + " rows per window: 12 steps must cross one");
            t.run(TrainingListener.NONE);
        }
        RunConfig single = TinyRun.config(dir, many, ckpt("one-s1"), concat(common, "data.memory_mb=4"));
        try (Trainer t = new Trainer(single, Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
        }
        RunConfig two = TinyRun.config(dir, many, ckpt("two-s2"), concat(common, "train.workers=2", "data.memory_mb=2"));
        DistributedTraining.run(spark, two);
        Configuration conf = new Configuration();
        for (String file : List.of("model", "ema", "optimizer")) {
            TinyRun.assertClose(TinyRun.tensors(ckpt("one-s2"), conf, 12, file), TinyRun.tensors(ckpt("two-s2"), conf, 12, file),
                    1e-6);
        }
        float[] s1 = TinyRun.tensors(ckpt("one-s1"), conf, 12, "model").get("final_layer.linear.weight");
        float[] s2 = TinyRun.tensors(ckpt("one-s2"), conf, 12, "model").get("final_layer.linear.weight");
        assertTrue(!java.util.Arrays.equals(s1, s2), "one stream draws other batches than two");
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    /**
     * A worker dies at step 3 on the first attempt: the barrier stage fails, Spark resubmits it, every rank
     * resumes from the step-2 checkpoint, and the run ends with the weights of an uninterrupted one, bit for bit.
     */
    @Test
    void aWorkerDyingMidRunIsRecoveredFromTheLastCheckpoint() {
        List<String> overrides = List.of("train.workers=2", "train.max_steps=6");
        RunConfig straight = TinyRun.config(dir, data, ckpt("straight"), overrides);
        DistributedTraining.run(spark, straight);

        RunConfig failing = TinyRun.config(dir, data, ckpt("failing"), overrides);
        List<WorkerResult> results = DistributedTraining.run(spark, failing,
                new InjectedFailure(3, 1, InjectedFailure.Mode.THROW));
        assertEquals(6, results.get(0).finalStep());
        Configuration conf = new Configuration();
        assertEquals(List.of(2L, 4L, 6L), CheckpointStore.open(ckpt("failing"), conf).committedSteps());
        for (String file : List.of("model", "ema", "optimizer")) {
            TinyRun.assertClose(TinyRun.tensors(ckpt("straight"), conf, 6, file),
                    TinyRun.tensors(ckpt("failing"), conf, 6, file), 0.0);
        }
    }

    @Test
    void moreWorkersThanSlotsFailsFastSayingSo() {
        RunConfig three = TinyRun.config(dir, data, ckpt("three"), List.of("train.workers=4"));
        var e = assertThrows(dev.ditspark.core.errors.DitUserError.class, () -> DistributedTraining.run(spark, three));
        assertTrue(e.getMessage().startsWith("train.workers: 4 workers run as one barrier stage and need 4 free task slots"),
                e.getMessage());
    }
}
