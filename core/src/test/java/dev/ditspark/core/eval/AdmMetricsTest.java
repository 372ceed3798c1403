package dev.ditspark.core.eval;

import dev.ditspark.core.engine.LinalgOps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ADM's metrics against numpy/scipy on the small random feature sets of eval_metrics.safetensors
 * (tools/reference/make_inception_fixtures.py): FID with scipy's sqrtm, the Inception Score and improved
 * precision/recall (k = 3).
 */
class AdmMetricsTest {

    private static JsonNode results(SafetensorsFile f) throws IOException {
        return Fixtures.json(f.metadata().get("results"));
    }

    @Test
    void frechetDistanceMatchesScipyWithBothEigensolvers() throws Exception {
        try (SafetensorsFile f = Fixtures.open("eval_metrics.safetensors"); NDManager m = TorchEngine.newManager()) {
            FeatureStatistics a = FeatureStatistics.fit(f.readFloat32("fid.a"), 200, 24, m);
            FeatureStatistics b = FeatureStatistics.fit(f.readFloat32("fid.b"), 150, 24, m);
            double want = results(f).get("fid_ab").asDouble();
            assertTrue(LinalgOps.available(), "the TorchScript eigensolver loads");
            assertEquals(want, a.frechetDistance(b, m, true), 1e-7 * want, "libtorch eigh");
            assertEquals(want, a.frechetDistance(b, m, false), 1e-7 * want, "Commons Math");
            assertEquals(want, b.frechetDistance(a, m), 1e-7 * want, "symmetric");
            assertEquals(0, a.frechetDistance(a, m, true), 1e-9, "a set against itself");
            assertEquals(0, a.frechetDistance(a, m, false), 1e-9, "a set against itself");
        }
    }

    /** At FID's 2048 dimensions with fewer vectors than dimensions (a singular covariance): 0 against itself. */
    @Test
    void aSetAgainstItselfHasFidZeroAt2048Dimensions() {
        int n = 300;
        int d = FidInception.POOL_DIM;
        Random r = new Random(3);
        float[] x = new float[n * d];
        float[] y = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.max(0, r.nextGaussian()); // ReLU-like features, as pool_3's
            y[i] = (float) Math.max(0, r.nextGaussian() + 0.1);
        }
        try (NDManager m = TorchEngine.newManager()) {
            long t0 = System.nanoTime();
            long cpu0 = cpuNanos();
            FeatureStatistics a = FeatureStatistics.fit(x, n, d, m);
            FeatureStatistics b = FeatureStatistics.fit(y, n, d, m);
            double self = a.frechetDistance(a, m);
            double other = a.frechetDistance(b, m);
            System.out.printf("2048-d: FID(a, a) = %.3g, FID(a, b) = %.4f, %.1f s wall, %.1f s process CPU "
                    + "(libtorch eigensolver: %s)%n", self, other, (System.nanoTime() - t0) / 1e9,
                    (cpuNanos() - cpu0) / 1e9, LinalgOps.available());
            double trace = 0;
            for (int i = 0; i < d; i++) {
                trace += a.covariance()[i * d + i];
            }
            // n < d: ~1,750 zero eigenvalues, each rounding to ±1e-12 or so before its square root.
            assertEquals(0, self, 1e-6 * trace);
            assertTrue(other > 20 * 1e-3 * trace, "a shifted set is far: " + other); // mean shift 0.1 in 2048 dims
        }
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    @Test
    void inceptionScoreMatchesNumpy() throws Exception {
        try (SafetensorsFile f = Fixtures.open("eval_metrics.safetensors")) {
            float[] logits = f.readFloat32("is.logits");
            double split100 = results(f).get("is_split100").asDouble();
            assertEquals(split100, InceptionScore.of(logits, 230, 10, 100), 1e-9 * split100, "3 splits, the last of 30");
            double one = results(f).get("is_split1000").asDouble();
            assertEquals(one, InceptionScore.of(logits, 230, 10, 1000), 1e-9 * one, "one split");
            // Identical confident predictions: p(y|x) = p(y), score 1.
            float[] same = new float[5 * 4];
            for (int i = 0; i < 5; i++) {
                same[i * 4] = 9f;
            }
            assertEquals(1.0, InceptionScore.of(same, 5, 4, 5000), 1e-12);
        }
    }

    @Test
    void precisionRecallMatchNumpyForAnyBlockSize() throws Exception {
        try (SafetensorsFile f = Fixtures.open("eval_metrics.safetensors"); NDManager m = TorchEngine.newManager()) {
            float[] ref = f.readFloat32("pr.ref");
            float[] sample = f.readFloat32("pr.sample");
            double p = results(f).get("precision").asDouble();
            double r = results(f).get("recall").asDouble();
            for (int rows : new int[] {7, 64, 1000}) {
                PrecisionRecall.Result got = PrecisionRecall.compute(ref, 120, sample, 90, 16, 3, rows, m);
                assertEquals(p, got.precision(), 0, "precision, blocks of " + rows);
                assertEquals(r, got.recall(), 0, "recall, blocks of " + rows);
            }
            PrecisionRecall.Result self = PrecisionRecall.compute(ref, 120, ref, 120, 16, 3, 50, m);
            assertEquals(1.0, self.precision());
            assertEquals(1.0, self.recall());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PrecisionRecall.compute(java.util.Arrays.copyOf(ref, 48), 3, ref, 120, 16, 3, 50, m));
            assertTrue(e.getMessage().contains("more than k = 3"), e.getMessage());
        }
    }

    @Test
    void npzArraysRoundTripAndImagesStreamInBatches(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("stats.npz");
        Map<String, Object> arrays = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        arrays.put("mu", new double[] {1.5, -2});
        shapes.put("mu", new long[] {2});
        arrays.put("pool", new float[] {1, 2, 3, 4, 5, 6});
        shapes.put("pool", new long[] {3, 2});
        NpzFile.write(file, arrays, shapes);
        try (NpzFile z = NpzFile.open(file)) {
            assertArrayEquals(new double[] {1.5, -2}, z.doubles("mu", 2));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, z.floats("pool", 3, 2));
            IOException e = assertThrows(IOException.class, () -> z.doubles("mu", 2048));
            assertTrue(e.getMessage().contains("stats.npz: mu has shape [2], expected [2048]"), e.getMessage());
            assertTrue(!z.contains("sigma"));
        }
        // arr_0 as dit sample writes it, read back in batches of 2.
        float[] pixels = new float[5 * 3 * 4 * 6];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i % 17) / 8f - 1;
        }
        dev.ditspark.core.sample.SampleImages images = dev.ditspark.core.sample.SampleImages.fromPixels(pixels, 5, 3, 4, 6);
        Path npz = dir.resolve("samples.npz");
        images.writeNpz(npz);
        List<Integer> counts = new ArrayList<>();
        try (NpzFile z = NpzFile.open(npz)) {
            int n = z.streamImages("arr_0", 2, (b, count, h, w) -> {
                counts.add(count);
                assertEquals(4, h);
                assertEquals(6, w);
                assertEquals(count * 4 * 6 * 3, b.length);
                int first = counts.stream().mapToInt(Integer::intValue).sum() - count;
                assertEquals(images.pixel(first, 1, 2, 0), b[(1 * 6 + 2) * 3] & 0xFF);
            });
            assertEquals(5, n);
        }
        assertEquals(List.of(2, 2, 1), counts);
    }
}
