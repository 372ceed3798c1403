package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.checkpoint.RunDirectory;
import dev.ditspark.core.checkpoint.TrainingState;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.nn.Parameter;
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

    /** The weights (and EMA) after one optimizer step in run directory {@code name}, with {@code overrides}. */
    private Map<String, float[]> oneStep(String name, String... overrides) throws Exception {
        List<String> all = new ArrayList<>(List.of("checkpoint.uri=" + dir.resolve(name).toUri(), "train.max_steps=1"));
        all.addAll(List.of(overrides));
        return train(config(data, all));
    }

    /** Trains {@code cfg} with a stop request (as SIGTERM) after step {@code at}; returns what stopped it. */
    private static String trainUntilStopRequestAt(RunConfig cfg, long at) {
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            t.run(new TrainingListener() {
                @Override
                public void onStep(StepMetrics m) {
                    if (m.step() == at) {
                        StopRequest.request("SIGTERM");
                    }
                }
            });
            assertEquals(at, t.step());
            return t.stoppedBy();
        } finally {
            StopRequest.clear();
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

    /**
     * train.ema_warmup through the trainer: after one step the EMA is 0.1·θ₀ + 0.9·θ₁ (decay (1+0)/(10+0)),
     * where the constant decay 0.9 gives 0.9·θ₀ + 0.1·θ₁ from the same θ₀, θ₁; and a warm-up run resumed
     * midway (the schedule continues at the checkpoint's step) ends bit-identical to the uninterrupted one.
     */
    @Test
    void emaWarmupFollowsTheStepAndResumes() throws Exception {
        Map<String, float[]> constant = oneStep("k");
        Map<String, float[]> warm = oneStep("m", "train.ema_warmup=true");
        for (String name : List.of("final_layer.linear.weight", "y_embedder.embedding_table.weight")) {
            float[] theta1 = constant.get(name);
            assertArrayEquals(theta1, warm.get(name), 0f, name + ": the EMA does not change the training");
            float[] emaConstant = constant.get("ema." + name);
            float[] emaWarm = warm.get("ema." + name);
            for (int i = 0; i < theta1.length; i++) {
                double theta0 = (emaConstant[i] - 0.1 * theta1[i]) / 0.9;
                assertEquals(0.1 * theta0 + 0.9 * theta1[i], emaWarm[i], 1e-6, name + "[" + i + "]");
            }
        }
        List<String> warmFlipless = List.of("train.ema_warmup=true", "train.horizontal_flip=false");
        List<String> straight = new java.util.ArrayList<>(warmFlipless);
        straight.add("checkpoint.uri=" + dir.resolve("ws").toUri());
        List<String> half = new java.util.ArrayList<>(warmFlipless);
        half.addAll(List.of("checkpoint.uri=" + dir.resolve("wr").toUri(), "train.max_steps=3"));
        List<String> rest = new java.util.ArrayList<>(warmFlipless);
        rest.add("checkpoint.uri=" + dir.resolve("wr").toUri());
        Map<String, float[]> whole = train(config(data, straight));
        train(config(data, half));
        assertBitIdentical(whole, train(config(data, rest)));
    }

    /**
     * train.lr_schedule and lr_warmup through the trainer. AdamW's first update is −lr·g/(|g| + eps) per element,
     * so from the zero-initialised final layer one step with a 4-step warm-up lands at exactly a quarter of the
     * constant rate's step; a cosine run resumed midway ends bit-identical to the uninterrupted one, and
     * metrics.jsonl logs each logged step's own rate.
     */
    @Test
    void lrScheduleSetsEachStepsRateAndResumes() throws Exception {
        Map<String, float[]> constant = oneStep("lc");
        Map<String, float[]> warm = oneStep("lw", "train.lr_warmup=4");
        float[] full = constant.get("final_layer.linear.weight");
        float[] quarter = warm.get("final_layer.linear.weight");
        assertTrue(full[0] != 0f || full[1] != 0f, "the step moved the final layer");
        for (int i = 0; i < full.length; i++) {
            assertEquals(full[i] / 4.0, quarter[i], 1e-9, "final_layer.linear.weight[" + i + "]");
        }
        Map<String, float[]> whole = train(config(data, List.of("checkpoint.uri=" + dir.resolve("cs").toUri(),
                "train.lr_schedule=cosine", "train.lr_warmup=2")));
        // Stopped at step 3 of the same 6-step run (a stop request, as SIGTERM) and resumed by the same command.
        RunConfig rest = config(data, List.of("checkpoint.uri=" + dir.resolve("cr").toUri(), "train.lr_schedule=cosine",
                "train.lr_warmup=2"));
        assertEquals("SIGTERM", trainUntilStopRequestAt(rest, 3));
        assertBitIdentical(whole, train(rest));
        LrSchedule schedule = LrSchedule.of(rest.train());
        List<MetricsRecord> logged = MetricsHistory.read(dir.resolve("cs").toUri().toString(), new Configuration());
        assertEquals(List.of(2L, 4L, 6L), logged.stream().map(MetricsRecord::step).toList());
        for (MetricsRecord r : logged) {
            assertEquals(schedule.lrAt(r.step() - 1), r.lr(), 1e-15, "lr logged at step " + r.step());
        }
        assertTrue(logged.get(2).lr() < logged.get(1).lr() && logged.get(1).lr() < 1e-3, "cosine decays");
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
    void aDivergedButFiniteStepIsNeverCheckpointed() throws Exception {
        // Issue 10 #12: lr 1e6 with a checkpoint every step. Step 2's loss (of the weights after step 1) is ~1e16 but
        // finite; the NaN guard alone let it be committed and then advised resuming from a diverged checkpoint.
        // lr 1e3 since the streaming order (issue 12) draws other samples: at 1e6 step 2's vb now overflows to
        // infinity, which the NaN guard catches instead; at 1e3 the loss is ~6e7, finite.
        String ckpt = dir.resolve("lr1e6").toUri().toString();
        RunConfig cfg = config(data, List.of("checkpoint.uri=" + ckpt, "train.lr=1e3", "checkpoint.every=1",
                "train.max_steps=30", "checkpoint.keep_last=30"));
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(TrainingListener.NONE));
            assertEquals(2, e.step());
            assertTrue(e.getMessage().matches("step 2: loss [0-9.e+]+ is \\d+ times the recent median 1\\.\\d+: training "
                    + "diverged; stopped before checkpointing it\\. The divergence began at step 2 .*"), e.getMessage());
            // step-1 holds the weights that gave that loss: it is not offered as the one to resume from.
            assertTrue(e.getMessage().endsWith("No checkpoint precedes it: start again with a lower train.lr (or check the data)."),
                    e.getMessage());
        }
        assertEquals(List.of(1L), CheckpointStore.open(ckpt, new Configuration()).committedSteps());
    }

    @Test
    void aDivergenceAfterGoodStepsNamesTheLastGoodCheckpoint() throws Exception {
        String ckpt = dir.resolve("later").toUri().toString();
        train(config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=1", "train.max_steps=4")));
        // The same run resumed with lr 1e6: step 5 (weights of step 4) is normal, step 6 (weights of step 5) spikes.
        RunConfig hot = config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=1", "train.max_steps=30",
                "train.lr=1e6"));
        try (Trainer t = new Trainer(hot, Collective.local(), Device.cpu(), new Configuration())) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(TrainingListener.NONE));
            assertEquals(6, e.step());
            assertTrue(e.getMessage().endsWith("The last checkpoint whose weights gave a normal loss is "
                    + CheckpointStore.open(ckpt, new Configuration()).location(4) + "; move the later ones (step-000000005) aside, lower train.lr (or check the data) and "
                    + "resume."), e.getMessage());
        }
    }

    @Test
    void aNewRunInAUsedDirectoryIsRefusedOrMovesTheOldRunAside() throws Exception {
        // Issue 10 #1: a run to step 12 keeps 10 and 12; a new run (resume=false) to 8 in the same directory had each
        // of its checkpoints pruned right after its commit, and one to 14 died at step 10 ("already committed").
        String ckpt = dir.resolve("used").toUri().toString();
        Map<String, float[]> old = train(config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=2",
                "checkpoint.keep_last=2", "train.max_steps=12")));
        CheckpointStore store = CheckpointStore.open(ckpt, new Configuration());
        assertEquals(List.of(10L, 12L), store.committedSteps());
        for (String steps : List.of("8", "14")) {
            RunConfig fresh = config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=2", "checkpoint.keep_last=2",
                    "checkpoint.resume=false", "train.max_steps=" + steps));
            ConfigException e = assertThrows(ConfigException.class, () -> RunDirectory.claim(fresh, new Configuration()));
            assertEquals("checkpoint.uri " + store.uri() + " already holds another run's checkpoints (step-000000010, "
                    + "step-000000012) and checkpoint.resume=false starts a new run there, whose checkpoints would collide "
                    + "with them or be pruned in their favour. Set another checkpoint.uri, resume that run "
                    + "(checkpoint.resume=true), or add --set checkpoint.move_aside=true to move it to a sibling directory",
                    e.getMessage());
            // The trainer itself refuses the same way (any entry point), before a step.
            assertThrows(ConfigException.class, () -> new Trainer(fresh, Collective.local(), Device.cpu(), new Configuration()));
            assertEquals(List.of(10L, 12L), store.committedSteps());
        }
        RunConfig aside = config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=2", "checkpoint.keep_last=2",
                "checkpoint.resume=false", "checkpoint.move_aside=true", "train.max_steps=8"));
        try (RunDirectory claimed = RunDirectory.claim(aside, new Configuration())) {
            train(claimed.config());
        }
        assertEquals(List.of(6L, 8L), store.committedSteps());
        Path[] moved;
        try (var list = Files.list(dir)) {
            moved = list.filter(p -> p.getFileName().toString().startsWith("used.moved-")).toArray(Path[]::new);
        }
        assertEquals(1, moved.length);
        CheckpointStore oldRun = CheckpointStore.open(moved[0].toUri().toString(), new Configuration());
        assertEquals(List.of(10L, 12L), oldRun.committedSteps());
        try (SafetensorsFile f = oldRun.openTensors(12, "ema")) {
            assertArrayEquals(old.get("ema.final_layer.linear.weight"), f.readFloat32("final_layer.linear.weight"), 0f);
        }
    }

    @Test
    void pruningNeverDeletesAnotherRunsCheckpoints() throws Exception {
        String ckpt = dir.resolve("shared").toUri().toString();
        train(config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=2", "checkpoint.keep_last=2",
                "train.max_steps=12")));
        CheckpointStore other = CheckpointStore.open(ckpt, new Configuration());
        other.claimRun(CheckpointStore.newRunId(), false);
        other.prune(1); // another run with keep_last 1 in the same directory: the first run's checkpoints are not its own
        assertEquals(List.of(10L, 12L), other.committedSteps());
    }

    @Test
    void aStopRequestCheckpointsTheStepReachedAndTheResumeIsBitIdentical() throws Exception {
        Map<String, float[]> straight = train(config(data, List.of("checkpoint.uri=" + dir.resolve("s1").toUri())));
        String ckpt = dir.resolve("s2").toUri().toString();
        assertEquals("SIGTERM", trainUntilStopRequestAt(config(data, List.of("checkpoint.uri=" + ckpt)), 4));
        assertEquals(List.of(3L, 4L), CheckpointStore.open(ckpt, new Configuration()).committedSteps());
        assertBitIdentical(straight, train(config(data, List.of("checkpoint.uri=" + ckpt))));
    }

    @Test
    void aCorruptedNewestCheckpointIsSkippedAndTheRunStillEndsBitIdentical() throws Exception {
        // Issue 10 #5: one flipped byte in model.safetensors with no Hadoop .crc beside it (S3, a copy skipping dot files).
        Map<String, float[]> straight = train(config(data, List.of("checkpoint.uri=" + dir.resolve("c1").toUri())));
        String ckpt = dir.resolve("c2").toUri().toString();
        train(config(data, List.of("checkpoint.uri=" + ckpt, "train.max_steps=5", "checkpoint.every=2")));
        Path model = dir.resolve("c2/step-000000004/model.safetensors");
        Files.delete(dir.resolve("c2/step-000000004/.model.safetensors.crc"));
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length - 3] ^= 0x10;
        Files.write(model, bytes);
        Files.walk(dir.resolve("c2")).filter(p -> p.getFileName().toString().endsWith(".crc")).forEach(p -> p.toFile().delete());
        CheckpointStore store = CheckpointStore.open(ckpt, new Configuration());
        assertEquals(List.of(2L, 4L, 5L), store.committedSteps());
        // step 5 is fine; damage 5 too, so the resume must fall back past two checkpoints to step 2
        Path model5 = dir.resolve("c2/step-000000005/ema.safetensors");
        byte[] b5 = Files.readAllBytes(model5);
        b5[b5.length - 1] ^= 0x01;
        Files.write(model5, b5);
        try (Trainer t = new Trainer(config(data, List.of("checkpoint.uri=" + ckpt, "checkpoint.every=2")),
                Collective.local(), Device.cpu(), new Configuration())) {
            assertEquals(2, t.step());
            t.run(TrainingListener.NONE);
            assertBitIdentical(straight, weights(t));
        }
        // step 4 was written anew; the damaged one is kept beside it
        store.verify(4);
        try (var list = Files.list(dir.resolve("c2"))) {
            assertEquals(1, list.filter(p -> p.getFileName().toString().startsWith("step-000000004.damaged-")).count());
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
        assertTrue(e.getMessage().startsWith("train.global_batch: each of 1 data streams needs 128 samples"), e.getMessage());
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
