package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.sample.SampleImages;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code dit demo} end to end, shortened (a few training steps, 4 samples per class, 10 DDIM steps, a briefly
 * trained classifier): import, train, sample, score. Checks the printed numbers, the grid and the .npz.
 */
@Tag("e2e")
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void shortDemoPrintsBothQualityNumbersAndWritesGridAndSamples() throws Exception {
        Path out = dir.resolve("demo");
        StringWriter text = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = DitCommand.commandLine();
        cl.setOut(new PrintWriter(text));
        cl.setErr(new PrintWriter(err));
        // No --config: conf/demo.yaml is found under dit.home (bin/dit passes it; surefire sets it to the checkout),
        // though the working directory here (launcher/) is not the repository root (issue 10 item 16).
        assertTrue(!Files.exists(Path.of("conf/demo.yaml")));
        int code = cl.execute("demo", "--out", out.toString(),
                "--set", "train.max_steps=20", "--set", "checkpoint.every=20", "--set", "sample.steps=ddim10",
                "--per-class", "4", "--grid-per-class", "2", "--classifier-steps", "60");
        String printed = text.toString();
        assertEquals(0, code, printed + err);

        Matcher accuracy = Pattern.compile("class accuracy: (\\d+\\.\\d)% of 40 samples").matcher(printed);
        Matcher fd = Pattern.compile("Frechet distance: (\\d+\\.\\d\\d) to the 10000 test images").matcher(printed);
        assertTrue(accuracy.find(), printed);
        assertTrue(fd.find(), printed);
        double a = Double.parseDouble(accuracy.group(1));
        assertTrue(a >= 0 && a <= 100, printed);
        assertTrue(Double.parseDouble(fd.group(1)) > 0, printed); // 20 training steps: far from the data
        assertTrue(Files.exists(out.resolve("classifier/fashion-mnist-cnn.safetensors")), printed);

        BufferedImage grid = ImageIO.read(out.resolve("samples/grid.png").toFile());
        assertEquals(2 + 2 * (28 + 2), grid.getWidth()); // 2 per class
        assertEquals(2 + 10 * (28 + 2), grid.getHeight()); // 10 classes

        SampleImages samples = SampleImages.readNpz(out.resolve("samples/samples.npz"));
        assertEquals(40, samples.count());
        assertEquals(28, samples.height());
        long[] expected = new long[40];
        for (int i = 0; i < 40; i++) {
            expected[i] = i / 4;
        }
        assertArrayEquals(expected, samples.labels().orElseThrow());
        for (int i = 0; i < 40; i += 13) { // grayscale model: the three channels are equal
            assertEquals(samples.pixel(i, 14, 14, 0), samples.pixel(i, 14, 14, 2));
        }

        // While it trained (conf/demo.yaml: sample.every and eval.every 1000, so at the last step of 20): a grid of
        // 10 classes x 8 from the EMA weights, and 100 samples scored into metrics.jsonl and the eval chart.
        Path run = out.resolve("checkpoints").toAbsolutePath().normalize();
        BufferedImage during = ImageIO.read(run.resolve("samples/step-000000020.png").toFile());
        assertEquals(2 + 8 * (28 + 2), during.getWidth());
        assertEquals(2 + 10 * (28 + 2), during.getHeight());
        java.util.List<dev.ditspark.core.train.MetricsRecord> history = dev.ditspark.core.train.MetricsHistory.read(
                run.toUri().toString(), new org.apache.hadoop.conf.Configuration());
        java.util.Map<String, Double> scores = history.get(history.size() - 1).eval();
        assertEquals(20, history.get(history.size() - 1).step());
        double during20 = scores.get("class_accuracy");
        assertTrue(during20 >= 0 && during20 <= 1, scores.toString());
        assertTrue(scores.get("frechet_distance") > 0, scores.toString());
        assertTrue(Files.exists(run.resolve("plots/eval.png")));
        // The classifier was trained before training (the evaluations use it), the final dit eval loaded it.
        assertTrue(printed.indexOf("classifier: saved") < printed.indexOf("[3/4]"), printed);
        // It says where everything is, as absolute paths.
        for (String where : new String[] {"final grid (row c = class c):  " + out.toAbsolutePath().normalize()
                .resolve("samples/grid.png"), "grids while training:          " + run.resolve("samples") + "/step-*.png",
                "metrics (one JSON line a log): " + run.resolve("metrics.jsonl"), "plots:                         "
                + run.resolve("plots/loss.png")}) {
            assertTrue(printed.contains(where), where + " not in\n" + printed);
        }

        // A rerun resumes: nothing left to train, the classifier comes from its cache.
        StringWriter again = new StringWriter();
        cl.setOut(new PrintWriter(again));
        assertEquals(0, cl.execute("demo", "--out", out.toString(), "--config", "../conf/demo.yaml",
                "--set", "train.max_steps=20", "--set", "sample.steps=ddim10", "--per-class", "2"), again.toString() + err);
        assertTrue(again.toString().contains("already imported"), again.toString());
        assertTrue(again.toString().contains("nothing to do"), again.toString());
        assertTrue(again.toString().contains("classifier: loaded"), again.toString());
        assertTrue(again.toString().contains("of 20 samples classified"), again.toString());
    }
}
