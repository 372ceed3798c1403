package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.plot.TrainingPlots;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl and the plots of a real single-worker run on Fashion-MNIST (file://; HDFS and S3 in spark-job). */
class MetricsHistoryTest {

    @TempDir
    static Path shared;

    static String data;

    @TempDir
    Path dir;

    @BeforeAll
    static void importData() throws Exception {
        data = shared.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 48);
    }

    private RunConfig config(int maxSteps) throws Exception {
        return config(maxSteps, List.of());
    }

    private RunConfig config(int maxSteps, List<String> overrides) throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: %s}
                train: {global_batch: 8, max_steps: %d, lr: 1.0e-3, ema_decay: 0.9, log_every: 2, threads: 1}
                checkpoint: {uri: %s, every: 3, keep_last: 5}
                """.formatted(data, maxSteps, dir.resolve("run").toUri()));
        return RunConfig.load(yaml, overrides);
    }

    private List<MetricsRecord> history() throws Exception {
        return MetricsHistory.read(dir.resolve("run").toUri().toString(), new Configuration());
    }

    private static List<Long> steps(List<MetricsRecord> h) {
        return h.stream().map(MetricsRecord::step).toList();
    }

    @Test
    void oneLinePerLoggedStepWithWindowMeansAndPlots() throws Exception {
        List<StepMetrics> perStep = new ArrayList<>();
        List<MetricsRecord> logged = new ArrayList<>();
        try (Trainer t = new Trainer(config(8), Collective.local(), Device.cpu(), new Configuration())) {
            t.run(new TrainingListener() {
                @Override
                public void onStep(StepMetrics m) {
                    perStep.add(m);
                }

                @Override
                public void onLog(MetricsRecord r) {
                    logged.add(r);
                }
            });
        }
        List<MetricsRecord> h = history();
        assertEquals(List.of(2L, 4L, 6L, 8L), steps(h), "8 steps logged every 2: 8/2 lines");
        assertEquals(steps(logged), steps(h), "the listener saw the lines the file holds");
        for (MetricsRecord r : h) {
            StepMetrics a = perStep.get((int) r.step() - 2);
            StepMetrics b = perStep.get((int) r.step() - 1);
            // Window means over the two steps since the previous line, for all three losses.
            assertEquals((a.loss() + b.loss()) / 2, r.loss(), 1e-6);
            assertEquals((a.mse() + b.mse()) / 2, r.mse(), 1e-6);
            assertEquals((a.vb() + b.vb()) / 2, r.vb(), 1e-6);
            assertEquals(r.mse() + r.vb(), r.loss(), 1e-5);
            assertEquals(8 * r.step(), r.imagesSeen());
            assertEquals(1e-3, r.lr(), 0);
            assertTrue(r.gradNorm() > 0 && Double.isFinite(r.gradNorm()), "gradient norm " + r.gradNorm());
            assertTrue(r.imagesPerSecond() > 0 && r.stepSeconds() > 0);
            assertTrue(r.heapUsedBytes() > 0 && r.rssBytes() > r.heapUsedBytes() / 100, "memory " + r);
            assertTrue(r.eval().isEmpty());
        }
        // The JSON keys a person (or jq) reads.
        String first = Files.readAllLines(dir.resolve("run").resolve(MetricsHistory.FILE_NAME)).get(0);
        for (String key : List.of("step", "epoch", "images_seen", "loss", "mse", "vb", "grad_norm", "lr",
                "images_per_second", "step_seconds", "heap_used_bytes", "rss_bytes", "time", "eval")) {
            assertTrue(first.contains("\"" + key + "\":"), key + " missing in " + first);
        }
        // file:// appends line by line (through the raw local file system: no .crc beside it).
        assertTrue(MetricsHistory.open(dir.resolve("run").toUri().toString(), new Configuration(), 8).appends());
        assertEquals(4, history().size(), "reopening at the last step kept every line");
        // The checkpoints redrew the charts; ImageIO reads them back at their size.
        for (String png : List.of("loss.png", "throughput.png")) {
            BufferedImage img = ImageIO.read(dir.resolve("run").resolve(TrainingPlots.DIRECTORY).resolve(png).toFile());
            assertNotNull(img, png);
            assertEquals(TrainingPlots.WIDTH, img.getWidth());
            assertEquals(TrainingPlots.HEIGHT, img.getHeight());
        }
    }

    @Test
    void aResumeAfterACrashCutsTheHistoryBackSoNoStepAppearsTwice() throws Exception {
        RunConfig cfg = config(8);
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            assertThrows(IllegalStateException.class, () -> t.run(new TrainingListener() {
                @Override
                public void onStep(StepMetrics m) {
                    if (m.step() == 5) { // lines 2 and 4 written, checkpoint 3 the newest: a crash
                        throw new IllegalStateException("crash");
                    }
                }
            }));
        }
        assertEquals(List.of(2L, 4L), steps(history()));
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            assertEquals(3, t.step());
            t.run(TrainingListener.NONE);
        }
        assertEquals(List.of(2L, 4L, 6L, 8L), steps(history()), "step 4 was logged again after the resume, once");
    }

    @Test
    void aRunMovedAsideTakesItsHistoryAndChartsAlong() throws Exception {
        try (Trainer t = new Trainer(config(8), Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
        }
        RunConfig fresh = config(4, List.of("checkpoint.resume=false", "checkpoint.move_aside=true"));
        try (dev.ditspark.core.checkpoint.RunDirectory claimed = dev.ditspark.core.checkpoint.RunDirectory.claim(fresh,
                new Configuration()); Trainer t = new Trainer(claimed.config(), Collective.local(), Device.cpu(),
                new Configuration())) {
            t.run(TrainingListener.NONE);
        }
        assertEquals(List.of(2L, 4L), steps(history()));
        Path moved;
        try (var list = Files.list(dir)) {
            moved = list.filter(p -> p.getFileName().toString().startsWith("run.moved-")).findFirst().orElseThrow();
        }
        assertEquals(List.of(2L, 4L, 6L, 8L), steps(MetricsHistory.read(moved.toUri().toString(), new Configuration())));
        assertTrue(Files.exists(moved.resolve("plots/loss.png")));
    }

    @Test
    void evaluationResultsRoundTripAndGetTheirChart() throws Exception {
        List<MetricsRecord> h = new ArrayList<>();
        for (int s = 1; s <= 40; s++) {
            Map<String, Double> eval = s % 10 == 0 ? Map.of("fid", 100.0 / s, "class_accuracy", s / 40.0) : Map.of();
            h.add(new MetricsRecord(s, 0, 8L * s, 1.0 / s, 0.9 / s, 0.1 / s, 0.5, 1e-4, 100 + s, 0.08, 1 << 20, 1 << 24,
                    1.7e9 + s, eval));
        }
        MetricsRecord back = MetricsRecord.parse(h.get(9).toJson());
        assertEquals(h.get(9), back);
        List<org.apache.hadoop.fs.Path> files = TrainingPlots.write(h, dir.toUri().toString(), new Configuration());
        assertEquals(3, files.size());
        BufferedImage eval = ImageIO.read(dir.resolve("plots/eval.png").toFile());
        assertEquals(TrainingPlots.WIDTH, eval.getWidth());
        assertEquals(2 * TrainingPlots.EVAL_PANEL_HEIGHT, eval.getHeight(), "one panel per metric, each on its own scale");
    }

    @Test
    void smoothingIsATrailingMeanThatSkipsGaps() {
        double[] s = TrainingPlots.smooth(new double[] {1, 3, Double.NaN, 5}, 2);
        assertEquals(1, s[0]);
        assertEquals(2, s[1]);
        assertEquals(3, s[2]);
        assertEquals(5, s[3]);
    }
}
