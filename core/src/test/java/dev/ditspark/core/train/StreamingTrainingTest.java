package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training through the streaming reader on a dataset larger than its budget (issue 12): 800 Fashion-MNIST images
 * (12.5 KiB per row, 10 MB of arrays) in 32 shards of 25 rows, read with data.memory_mb 4: windows of ~116 rows, so
 * 30 steps of 8 cross window boundaries and a resume at step 13 lands mid-window.
 */
class StreamingTrainingTest {

    @TempDir
    static Path dir;

    static String data;
    static final int MEMORY_MB = 4;

    @BeforeAll
    static void writeData() throws Exception {
        data = dir.resolve("fmnist-800").toUri().toString();
        FashionMnist.Images fm = FashionMnist.installed().readImages(FashionMnist.Split.TRAIN, 800);
        DatasetManifest layout = DatasetManifest.describe(1, 28, 28, LatentDType.FLOAT32, DatasetManifest.NO_ENCODER, 1.0,
                28, FashionMnist.CLASS_NAMES, "fashion-mnist/train");
        float[] zeros = new float[784];
        try (LatentShardWriter w = LatentShardWriter.to(data, layout).rowsPerShard(25).open()) {
            for (int i = 0; i < fm.count(); i++) {
                float[] img = fm.image(i);
                w.write(new LatentRecord(fm.labels()[i], img, zeros, FashionMnist.mirror(img, 28, 28), zeros, "fm/" + i));
            }
        }
    }

    static Path yaml(Path where, String ckpt, long maxSteps) throws Exception {
        Path yaml = where.resolve("run-" + maxSteps + "-" + Math.abs(ckpt.hashCode()) + ".yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: '%s', memory_mb: %d}
                train: {global_batch: 8, max_steps: %d, lr: 1.0e-3, ema_decay: 0.9, log_every: 5, threads: 1}
                checkpoint: {uri: '%s', every: 13, keep_last: 5}
                """.formatted(data, MEMORY_MB, maxSteps, ckpt));
        return yaml;
    }

    private static Map<String, float[]> weights(Trainer t) {
        Map<String, float[]> w = new LinkedHashMap<>();
        t.model().namedParameters().forEach((n, p) -> w.put(n, p.value().toFloatArray()));
        t.ema().weights().forEach((n, v) -> w.put("ema." + n, v.toFloatArray()));
        return w;
    }

    private static Map<String, float[]> train(Path yaml) {
        try (Trainer t = new Trainer(RunConfig.load(yaml, List.of()), Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
            return weights(t);
        }
    }

    private static void assertBitIdentical(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), 0f, k));
    }

    @Test
    void trainsOnADatasetLargerThanItsBudgetHoldingNoMoreThanTheBudget() throws Exception {
        String ckpt = dir.resolve("bounded").toUri().toString();
        try (Trainer t = new Trainer(RunConfig.load(yaml(dir, ckpt, 30), List.of()), Collective.local(), Device.cpu(),
                new Configuration())) {
            long budget = (long) MEMORY_MB << 20;
            long datasetBytes = 800L * 4 * 784 * 4;
            assertTrue(datasetBytes > 2 * budget, datasetBytes + " bytes of arrays, budget " + budget);
            assertTrue(t.data().windowRows() * 4 < t.data().shareSize(), t.data().windowRows() + " rows per window");
            StepMetrics last = t.run(TrainingListener.NONE);
            assertEquals(30, last.step());
            assertTrue(Double.isFinite(last.loss()));
            long peak = t.data().peakHeldBytes();
            assertTrue(peak > 0 && peak <= budget, peak + " bytes held at most, budget " + budget);
            System.out.printf("streaming training: %d rows per window, peak held %.2f MiB of a %d MiB budget, "
                    + "dataset %.2f MiB%n", t.data().windowRows(), peak / 1048576.0, MEMORY_MB, datasetBytes / 1048576.0);
        }
    }

    @Test
    void resumingMidWindowIsBitIdentical() throws Exception {
        Map<String, float[]> straight = train(yaml(dir, dir.resolve("straight").toUri().toString(), 30));
        String ckpt = dir.resolve("halves").toUri().toString();
        train(yaml(dir, ckpt, 13));
        Map<String, float[]> resumed = train(yaml(dir, ckpt, 30));
        assertEquals(List.of(13L, 26L, 30L), CheckpointStore.open(ckpt, new Configuration()).committedSteps());
        assertBitIdentical(straight, resumed);
    }

    /** The child of {@link #aRunKilledWithSigkillResumesBitIdentically}: trains, printing each checkpoint. */
    public static void main(String[] args) {
        try (Trainer t = new Trainer(RunConfig.load(Path.of(args[0]), List.of()), Collective.local(), Device.cpu(),
                new Configuration())) {
            t.run(new TrainingListener() {
                @Override
                public void onCheckpoint(long step, String uri) {
                    System.out.println("checkpoint " + step);
                    System.out.flush();
                }
            });
        }
    }

    @Test
    void aRunKilledWithSigkillResumesBitIdentically() throws Exception {
        String ckpt = dir.resolve("killed").toUri().toString();
        Path yaml = yaml(dir, ckpt, 30);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                StreamingTrainingTest.class.getName(), yaml.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        CountDownLatch checkpointed = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (out) {
                        out.append(line).append('\n');
                    }
                    if (line.equals("checkpoint 13")) {
                        checkpointed.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        assertTrue(checkpointed.await(300, TimeUnit.SECONDS), () -> "no checkpoint 13 within 300 s:\n" + out);
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no stop checkpoint; the reader threads die mid-read
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        reader.join();
        assertEquals(137, p.exitValue(), out.toString());
        List<Long> left = CheckpointStore.open(ckpt, new Configuration()).committedSteps();
        assertTrue(left.contains(13L) && !left.contains(30L), left + "\n" + out);

        Map<String, float[]> resumed = train(yaml);
        Map<String, float[]> straight = train(yaml(dir, dir.resolve("killed-straight").toUri().toString(), 30));
        assertBitIdentical(straight, resumed);
    }
}
