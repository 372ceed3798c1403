package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.plot.TrainingPlots;
import dev.ditspark.core.train.MetricsRecord;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotCommandTest {

    @TempDir
    Path dir;

    @Test
    void drawsTheChartsOfAHistory() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int s = 10; s <= 300; s += 10) {
            lines.add(new MetricsRecord(s, 0, 16L * s, 1.0 / s, 0.9 / s, 0.1 / s, 0.3, 1e-4, 50, 0.3, 1 << 20, 1 << 25,
                    1.7e9 + s, s == 300 ? Map.of("fid", 40.0) : Map.of()).toJson());
        }
        Files.write(dir.resolve("metrics.jsonl"), lines);
        DitRun r = DitRun.of("plot", dir.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("drew 30 points, steps 10 to 300"), r.out());
        for (String png : List.of("loss.png", "throughput.png", "eval.png")) {
            assertTrue(r.out().contains(png), r.out());
            BufferedImage img = ImageIO.read(dir.resolve(TrainingPlots.DIRECTORY).resolve(png).toFile());
            assertEquals(TrainingPlots.WIDTH, img.getWidth(), png);
            // eval.png: one panel per metric (here one, fid)
            assertEquals(png.equals("eval.png") ? TrainingPlots.EVAL_PANEL_HEIGHT : TrainingPlots.HEIGHT, img.getHeight(), png);
        }
    }

    @Test
    void aMissingDirectoryIsOneClearLine() {
        String missing = dir.resolve("no-such-run").toString();
        DitRun r = DitRun.of("plot", missing);
        assertEquals(1, r.code());
        assertEquals("dit: " + missing + ": no such run directory (RUN_DIR is a run's checkpoint.uri)", r.err().strip());
    }

    @Test
    void aDirectoryWithoutHistoryIsOneClearLine() {
        DitRun r = DitRun.of("plot", dir.toString());
        assertEquals(1, r.code());
        assertEquals("dit: " + dir + ": no metrics.jsonl here; a run writes it at its first logged step (train.log_every)",
                r.err().strip());
    }
}
