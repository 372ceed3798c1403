package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit eval --ref --workers 2}: the samples' Inception features on local Spark give the one-JVM numbers. */
class EvalOnSparkTest {
    private static final String[] NUMBERS = {"Inception Score", "FID", "sFID", "Precision", "Recall"};

    private static Path npz(Path dir, String name, int n, long seed) throws Exception {
        Random r = new Random(seed);
        float[] px = new float[n * 3 * 32 * 32];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        Path p = dir.resolve(name);
        SampleImages.fromPixels(px, n, 3, 32, 32).writeNpz(p);
        return p;
    }

    private static double value(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": (\\S+)$").matcher(out);
        assertTrue(m.find(), "no '" + label + "' line in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    @Tag("e2e") // ~40 s on 2 shared cores: four random Inception-v3 builds and 299 px forwards on the CPU
    void twoWorkersGiveTheNumbersOfOneJvm(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz", 5, 1); // 3 batches of 2: the tasks get 1 and 2, the last one short
        Path ref = npz(dir, "ref.npz", 4, 2);
        String[] common = {"eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", "random:0",
            "--batch-size", "2", "--threads", "1"};
        DitRun here = DitRun.of(common);
        assertEquals(0, here.code(), here.all());
        String[] spark = java.util.Arrays.copyOf(common, common.length + 2);
        spark[common.length] = "--workers";
        spark[common.length + 1] = "2";
        DitRun onSpark = DitRun.of(spark);
        assertEquals(0, onSpark.code(), onSpark.all());
        assertTrue(onSpark.out().contains("5 images on 2 workers"), onSpark.out());
        for (String k : NUMBERS) {
            double a = value(here.out(), k);
            double b = value(onSpark.out(), k);
            // Each image goes through the same Inception batch as in one JVM: the same features, the same numbers.
            assertEquals(a, b, k + ":\n" + here.out() + "\n" + onSpark.out());
        }
        // The samples differ from the reference: a FID of 0 would not tell the ranges apart.
        assertTrue(value(here.out(), "FID") > 0, here.out());
    }

    @Test
    void aBadSamplesFileAndBadOptionsAreOneLine(@TempDir Path dir) throws Exception {
        Path ref = npz(dir, "ref.npz", 4, 2);
        Path bad = dir.resolve("bad.npz");
        Files.writeString(bad, "not a zip");
        DitRun run = DitRun.of("eval", "--samples", bad.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--workers", "2");
        assertTrue(run.code() != 0, run.all());
        assertTrue(run.err().contains(bad + ": not an .npz file"), run.all());
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());

        DitRun gpu = DitRun.of("eval", "--samples", ref.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--workers", "2", "--gpu", "0");
        assertTrue(gpu.err().contains("--gpu: one worker here only"), gpu.all());
        DitRun zero = DitRun.of("eval", "--samples", ref.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--workers", "0");
        assertTrue(zero.err().contains("--workers: must be at least 1, got 0"), zero.all());
        DitRun fashion = DitRun.of("eval", "--samples", ref.toString(), "--workers", "2");
        assertTrue(fashion.err().contains("--workers: with --ref only"), fashion.all());
    }
}
