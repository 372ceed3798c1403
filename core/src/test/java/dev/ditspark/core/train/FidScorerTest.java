package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.FeatureStatistics;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval.metric: fid} against an ADM-style reference that holds only precomputed {@code mu} and {@code sigma}
 * (no images): they are used as they are. (Against real images, and inside a training run: TrainingSamplesTest.)
 */
class FidScorerTest {

    @Test
    void precomputedStatisticsAreUsedAsTheyAre(@TempDir Path dir) throws Exception {
        Random r = new Random(9);
        float[] px = new float[3 * 3 * 16 * 16];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        SampleImages images = SampleImages.fromPixels(px, 3, 3, 16, 16);
        Path ref = dir.resolve("stats.npz");
        try (NDManager m = TorchEngine.newManager()) {
            // The statistics of these very images, written as ADM writes a reference batch's mu and sigma.
            FidInception net = FidInception.random(1, m);
            byte[] nhwc = new byte[3 * 16 * 16 * 3];
            int k = 0;
            for (int i = 0; i < 3; i++) {
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        for (int c = 0; c < 3; c++) {
                            nhwc[k++] = (byte) images.pixel(i, y, x, c);
                        }
                    }
                }
            }
            InceptionFeatures f = net.features(nhwc, 3, 16, 16, m, 3);
            FeatureStatistics s = FeatureStatistics.fit(f.pool(), 3, FidInception.POOL_DIM, m);
            Map<String, Object> arrays = new LinkedHashMap<>();
            arrays.put("mu", s.mean());
            arrays.put("sigma", s.covariance());
            NpzFile.write(ref, arrays, Map.of("mu", new long[] {FidInception.POOL_DIM},
                    "sigma", new long[] {FidInception.POOL_DIM, FidInception.POOL_DIM}));
        }
        try (NDManager m = TorchEngine.newManager();
                FidScorer scorer = new FidScorer(ref, "random:1", 1L, 2, m, line -> { })) {
            Map<String, Double> got = scorer.score(images, new long[] {0, 1, 2});
            assertEquals(List.of(FidScorer.FID, FidScorer.INCEPTION_SCORE), List.copyOf(got.keySet()));
            assertEquals(0, got.get(FidScorer.FID), 1e-3, "a set against its own statistics");
            double is = got.get(FidScorer.INCEPTION_SCORE);
            assertTrue(is >= 1 && is <= 3, "IS of 3 images: " + is);
        }
        try (Stream<Path> list = Files.list(dir)) {
            assertFalse(list.anyMatch(p -> p.getFileName().toString().contains(".inception-")),
                    "no features computed or cached for a reference with precomputed statistics");
        }
    }

    @Test
    void messagesNameTheFieldOnce() {
        assertEquals("eval.reference r.npz: no array 'arr_0'", FidScorer.named("eval.reference", "r.npz",
                "r.npz: no array 'arr_0'"));
        assertEquals("eval.inception w.safetensors: truncated", FidScorer.named("eval.inception", "w.safetensors",
                "truncated"));
    }
}
