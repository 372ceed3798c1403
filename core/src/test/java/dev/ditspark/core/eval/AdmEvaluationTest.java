package dev.ditspark.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole ADM evaluation on a few small images with the random-weight Inception: a set against itself scores
 * FID = sFID = 0 and precision = recall = 1; the reference's features are cached; an ADM-style reference batch's
 * precomputed statistics are the ones used.
 */
class AdmEvaluationTest {

    private static SampleImages images(int n, int size, long seed) {
        Random r = new Random(seed);
        float[] px = new float[n * 3 * size * size];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        return SampleImages.fromPixels(px, n, 3, size, size);
    }

    @Test
    void aSetAgainstItselfAndTheReferenceCache(@TempDir Path dir) throws Exception {
        Path samples = dir.resolve("samples.npz");
        Path ref = dir.resolve("ref.npz");
        images(6, 32, 1).writeNpz(samples);
        images(6, 32, 1).writeNpz(ref);
        Path other = dir.resolve("other.npz");
        images(6, 32, 2).writeNpz(other);
        List<String> log = new ArrayList<>();
        try (NDManager m = TorchEngine.newManager()) {
            FidInception net = FidInception.random(0, m);
            AdmEvaluation.Reference r = AdmEvaluation.reference(ref, net, m, 4, log::add);
            Path cache = AdmEvaluation.cachePath(ref, net.fingerprint());
            assertTrue(Files.isRegularFile(cache), "cached at " + cache + ": " + log);
            assertFalse(r.statsFromFile());
            InceptionFeatures f;
            try (NpzFile z = NpzFile.open(samples)) {
                f = AdmEvaluation.extract(z, "arr_0", net, m, 4, log::add);
            }
            AdmEvaluation.Result self = AdmEvaluation.evaluate(f, r, m);
            double trace = 0;
            for (int i = 0; i < FidInception.POOL_DIM; i++) {
                trace += r.pool().covariance()[i * FidInception.POOL_DIM + i];
            }
            // Rank-5 covariances in 2048-d: ~2,000 zero eigenvalues, each rounding to a tiny ± before its square root.
            assertEquals(0, self.fid(), 1e-4 * Math.max(1, trace), "FID of a set against itself");
            assertEquals(0, self.sfid(), 1e-4 * Math.max(1, trace), "sFID of a set against itself");
            assertEquals(1.0, self.precision());
            assertEquals(1.0, self.recall());
            assertEquals(6, self.samples());
            assertTrue(self.inceptionScore() >= 1 && self.inceptionScore() <= 6, "IS of 6 images: " + self.inceptionScore());

            // Second time: read from the cache, same numbers.
            log.clear();
            AdmEvaluation.Reference again = AdmEvaluation.reference(ref, net, m, 4, log::add);
            assertTrue(log.stream().anyMatch(s -> s.contains("from the cache")), log.toString());
            AdmEvaluation.Result cached = AdmEvaluation.evaluate(f, again, m);
            assertEquals(self.fid(), cached.fid(), 1e-9 * trace);
            assertEquals(self.recall(), cached.recall());

            // Other images are farther.
            InceptionFeatures g;
            try (NpzFile z = NpzFile.open(other)) {
                g = AdmEvaluation.extract(z, "arr_0", net, m, 6, s -> { });
            }
            AdmEvaluation.Result far = AdmEvaluation.evaluate(g, r, m);
            assertTrue(far.fid() > 1e-3 * trace, "FID of other images: " + far.fid());

            // An ADM-style reference batch: arr_0 plus precomputed mu/sigma/mu_s/sigma_s, used as they are.
            Path adm = dir.resolve("adm_ref.npz");
            FeatureStatistics gp = FeatureStatistics.fit(g.pool(), 6, FidInception.POOL_DIM, m);
            FeatureStatistics gs = FeatureStatistics.fit(g.spatial(), 6, FidInception.SPATIAL_DIM, m);
            Map<String, Object> arrays = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            arrays.put("mu", gp.mean());
            shapes.put("mu", new long[] {FidInception.POOL_DIM});
            arrays.put("sigma", gp.covariance());
            shapes.put("sigma", new long[] {FidInception.POOL_DIM, FidInception.POOL_DIM});
            arrays.put("mu_s", gs.mean());
            shapes.put("mu_s", new long[] {FidInception.SPATIAL_DIM});
            arrays.put("sigma_s", gs.covariance());
            shapes.put("sigma_s", new long[] {FidInception.SPATIAL_DIM, FidInception.SPATIAL_DIM});
            NpzFile.write(dir.resolve("stats.npz"), arrays, shapes);
            // arr_0 = the first images (for precision/recall), statistics = the other images'.
            try (var zin = new java.util.zip.ZipFile(ref.toFile());
                    var zout = new java.util.zip.ZipOutputStream(Files.newOutputStream(adm));
                    var zs = new java.util.zip.ZipFile(dir.resolve("stats.npz").toFile())) {
                for (var src : List.of(zin, zs)) {
                    for (var e : java.util.Collections.list(src.entries())) {
                        zout.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                        src.getInputStream(e).transferTo(zout);
                        zout.closeEntry();
                    }
                }
            }
            AdmEvaluation.Reference ar = AdmEvaluation.reference(adm, net, m, 4, s -> { });
            assertTrue(ar.statsFromFile());
            AdmEvaluation.Result withStats = AdmEvaluation.evaluate(f, ar, m);
            FeatureStatistics fp = FeatureStatistics.fit(f.pool(), 6, FidInception.POOL_DIM, m);
            assertEquals(fp.frechetDistance(gp, m), withStats.fid(), 1e-9 * trace, "FID against the file's mu/sigma");
            assertEquals(1.0, withStats.precision(), "precision/recall use the reference's images");
        }
    }
}
