package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.checkpoint.TrainingState;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.model.Parameter;
import dev.ditspark.core.testing.LogCapture;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single-worker training loop on real Fashion-MNIST images read through the shard format. */
class TrainerTest {

    @TempDir
    static Path shared;

    static String data;

    @TempDir
    Path dir;

    @BeforeAll
    static void importData() throws Exception {
        data = shared.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 96);
    }

    /** A tiny pixel-space DiT: 7×7 patch tokens of width 32, one block. */
    private RunConfig config(String dataUri, List<String> overrides) throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 4, hidden_size: 32, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: %s}
                train: {global_batch: 8, max_steps: 6, lr: 1.0e-3, ema_decay: 0.9, log_every: 2, threads: 1}
                checkpoint: {uri: %s, every: 3, keep_last: 5}
                """.formatted(dataUri, dir.resolve("ckpt").toUri()));
        return RunConfig.load(yaml, overrides);
    }

    private static Map<String, float[]> weights(Trainer t) {
        Map<String, float[]> w = new LinkedHashMap<>();
        t.model().namedParameters().forEach((n, p) -> w.put(n, p.value().toFloatArray()));
        t.ema().weights().forEach((n, v) -> w.put("ema." + n, v.toFloatArray()));
        return w;
    }

    private Map<String, float[]> train(RunConfig cfg) {
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
            return weights(t);
        }
    }

    private static void assertBitIdentical(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), 0f, k));
    }

    @Test
    void resumingGivesBitIdenticalWeights() throws Exception {
        Map<String, float[]> straight = train(config(data, List.of("checkpoint.uri=" + dir.resolve("a").toUri())));
        RunConfig half = config(data, List.of("checkpoint.uri=" + dir.resolve("b").toUri(), "train.max_steps=3"));
        Map<String, float[]> firstHalf = train(half);
        CheckpointStore store = CheckpointStore.open(dir.resolve("b").toUri().toString(), new Configuration());
        assertEquals(3, store.latestStep().getAsLong());
        Map<String, float[]> resumed = train(config(data, List.of("checkpoint.uri=" + dir.resolve("b").toUri())));
        assertBitIdentical(straight, resumed);
        // And training did something: weights moved between step 3 and 6.
        assertTrue(!java.util.Arrays.equals(firstHalf.get("final_layer.linear.weight"), resumed.get("final_layer.linear.weight")));
        assertEquals(List.of(3L, 6L), store.committedSteps());
    }

    @Test
    void gradientAccumulationMatchesOneBigBatch() throws Exception {
        Map<String, float[]> whole = train(config(data, List.of("checkpoint.uri=" + dir.resolve("w").toUri())));
        Map<String, float[]> accumulated = train(config(data, List.of("checkpoint.uri=" + dir.resolve("m").toUri(),
                "train.micro_batch=2")));
        whole.forEach((k, v) -> dev.ditspark.core.testing.Fixtures.assertClose(v, accumulated.get(k), 1e-5, k));
    }

    @Test
    void aNanInTheDataStopsTheRunNamingTheStep() throws Exception {
        String bad = dir.resolve("bad").toUri().toString();
        DatasetManifest layout = DatasetManifest.describe(1, 28, 28, LatentDType.FLOAT32, "none", 1.0, 28,
                FashionMnist.CLASS_NAMES, "test");
        try (LatentShardWriter w = LatentShardWriter.to(bad, layout).open()) {
            for (int i = 0; i < 16; i++) {
                float[] px = new float[784];
                if (i == 5) {
                    px[100] = Float.NaN;
                }
                w.write(new LatentRecord(i % 10, px, new float[784], px, new float[784], "synthetic/" + i));
            }
        }
        RunConfig cfg = config(bad, List.of("train.global_batch=16"));
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(TrainingListener.NONE));
            assertEquals(1, e.step());
            assertTrue(e.getMessage().startsWith("step 1: loss is NaN"), e.getMessage());
            assertEquals(0, t.step()); // nothing applied
        }
    }

    @Test
    void fineTunesFromExportedReferenceNamedWeights() throws Exception {
        Path exported = dir.resolve("ema.safetensors");
        try (Trainer t = new Trainer(config(data, List.of("checkpoint.uri=" + dir.resolve("e").toUri(), "train.max_steps=2")),
                Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
            StateDict.write(t.model(), exported, TensorDType.F32, Map.of("format", "pt"));
        }
        RunConfig ft = config(data, List.of("checkpoint.uri=" + dir.resolve("f").toUri(), "train.max_steps=1",
                "checkpoint.init_from=" + exported));
        try (Trainer t = new Trainer(ft, Collective.local(), Device.cpu(), new Configuration());
                SafetensorsFile f = SafetensorsFile.open(exported)) {
            // Before any step the model and its EMA equal the file.
            for (Map.Entry<String, Parameter> e : t.model().namedParameters().entrySet()) {
                assertArrayEquals(f.readFloat32(e.getKey()), e.getValue().value().toFloatArray(), 0f, e.getKey());
                assertArrayEquals(f.readFloat32(e.getKey()), t.ema().weights().get(e.getKey()).toFloatArray(), 0f);
            }
        }
    }

    @Test
    void dataThatDoesNotFitTheModelIsNamed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(
                config(data, List.of("model.in_channels=4")), Collective.local(), Device.cpu(), new Configuration()));
        assertTrue(e.getMessage().contains("samples are 1x28x28 but the model expects 4x28x28"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Trainer(config(data, List.of("train.global_batch=128")),
                Collective.local(), Device.cpu(), new Configuration()));
        assertTrue(e.getMessage().startsWith("train.global_batch: each of 1 workers needs 128 samples"), e.getMessage());
    }

    /**
     * Issue 10 item 7: 10 steps at batch 8 on 200 samples, resumed at batch 16, continue at sample 80 of the
     * epoch with the images seen counted right and a log line naming the change; a resume from step 20 (batch
     * index 20, which an epoch of 12 batches of 16 does not have) continues at sample 160 and rolls over.
     */
    @Test
    void resumingWithAnotherBatchSizeContinuesWhereTheDataStopped() throws Exception {
        String d200 = dir.resolve("fmnist200").toUri().toString();
        FashionMnist.installed().importTo(d200, FashionMnist.Split.TRAIN, 200);
        String ck = dir.resolve("c").toUri().toString();
        CheckpointStore store = CheckpointStore.open(ck, new Configuration());
        train(config(d200, List.of("checkpoint.uri=" + ck, "train.max_steps=10", "checkpoint.every=10")));
        assertEquals(80, store.readState(10).samplesInEpoch());
        String log;
        try (LogCapture capture = new LogCapture()) {
            train(config(d200, List.of("checkpoint.uri=" + ck, "train.max_steps=12", "checkpoint.every=10",
                    "train.global_batch=16")));
            log = capture.text();
        }
        TrainingState s = store.readState(12);
        assertEquals(0, s.epoch());
        assertEquals(80 + 2 * 16, s.samplesInEpoch());
        assertEquals(80 + 2 * 16, s.imagesSeen());
        assertTrue(log.contains("train.global_batch 8 -> 16") && log.contains("continues after sample 80 of epoch 0"), log);

        String ck20 = dir.resolve("c20").toUri().toString();
        CheckpointStore store20 = CheckpointStore.open(ck20, new Configuration());
        train(config(d200, List.of("checkpoint.uri=" + ck20, "train.max_steps=20", "checkpoint.every=10")));
        assertEquals(160, store20.readState(20).samplesInEpoch());
        train(config(d200, List.of("checkpoint.uri=" + ck20, "train.max_steps=22", "checkpoint.every=10",
                "train.global_batch=16")));
        TrainingState s22 = store20.readState(22);
        assertEquals(1, s22.epoch(), "160 + 2·16 = 192: the 8 left hold no batch of 16, the next epoch begins");
        assertEquals(0, s22.samplesInEpoch());
        assertEquals(160 + 2 * 16, s22.imagesSeen());
    }
}
