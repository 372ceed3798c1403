package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit eval --ref}: ADM's five numbers, here with random Inception weights on a set against itself. */
class EvalImageNetTest {

    private static Path npz(Path dir, String name) throws Exception {
        Random r = new Random(4);
        float[] px = new float[5 * 3 * 24 * 24];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        Path p = dir.resolve(name);
        SampleImages.fromPixels(px, 5, 3, 24, 24).writeNpz(p);
        return p;
    }

    private static double value(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": (\\S+)$").matcher(out);
        assertTrue(m.find(), "no '" + label + "' line in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void printsTheFiveNumbersAndCachesTheReference(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz");
        Path ref = npz(dir, "ref.npz");
        DitRun run = DitRun.of("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--batch-size", "3", "--threads", "1");
        assertEquals(0, run.code(), run.all());
        String out = run.out();
        assertTrue(out.contains("random weights"), out);
        assertEquals(0, value(out, "FID"), 1e-2, out);
        assertEquals(0, value(out, "sFID"), 1e-2, out);
        assertEquals(1.0, value(out, "Precision"), out);
        assertEquals(1.0, value(out, "Recall"), out);
        double is = value(out, "Inception Score");
        assertTrue(is >= 1 && is <= 5, out);
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().matches("ref\\.inception-[0-9a-f]{16}\\.npz")),
                    "reference features cached next to it");
        }
    }

    @Test
    void refusalsNameTheOption(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz");
        DitRun noWeights = DitRun.of("eval", "--samples", samples.toString(), "--ref", samples.toString());
        assertTrue(noWeights.code() != 0);
        assertTrue(noWeights.err().contains("--inception: required with --ref"), noWeights.all());
        assertEquals(1, noWeights.err().strip().lines().count(), "one line: " + noWeights.err());

        DitRun noRef = DitRun.of("eval", "--samples", samples.toString(), "--ref", dir.resolve("nope.npz").toString(),
                "--inception", "random:0");
        assertTrue(noRef.err().contains("--ref " + dir.resolve("nope.npz") + ": no such file"), noRef.all());

        Path noImages = dir.resolve("stats.npz");
        dev.ditspark.core.eval.NpzFile.write(noImages, java.util.Map.of("mu", new double[] {1, 2}),
                java.util.Map.of("mu", new long[] {2}));
        DitRun wrongRef = DitRun.of("eval", "--samples", samples.toString(), "--ref", noImages.toString(),
                "--inception", "random:0");
        assertTrue(wrongRef.code() != 0);
        assertTrue(wrongRef.err().contains(noImages + ": no array 'arr_0'"), wrongRef.all());
        assertEquals(1, wrongRef.err().strip().lines().count(), "one line: " + wrongRef.err());

        DitRun badSeed = DitRun.of("eval", "--samples", samples.toString(), "--ref", samples.toString(),
                "--inception", "random:x");
        assertTrue(badSeed.err().contains("--inception random:x: expected random:SEED"), badSeed.all());
    }
}
