package dev.ditspark.core.eval;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The five numbers of ADM's evaluation suite (guided-diffusion evaluations/evaluator.py), which the DiT paper
 * reports: Inception Score, FID, sFID, precision and recall, for a samples .npz ({@code arr_0}, N × H × W × 3
 * uint8) against a reference .npz.
 *
 * <p>The reference is ADM's reference batch (e.g. VIRTUAL_imagenet256_labeled.npz: {@code arr_0} 10,000 images
 * and the precomputed {@code mu}, {@code sigma} (pool, 2048-d) and {@code mu_s}, {@code sigma_s} (spatial,
 * 2023-d)), whose statistics are used as they are, as ADM does, or any .npz of real images, whose statistics are
 * computed. Either way the reference's pool features (needed for precision/recall) are computed once and cached
 * next to it as {@code REF.inception-FINGERPRINT.npz}, FINGERPRINT naming the Inception weights.
 */
public final class AdmEvaluation {
    /** ADM's Inception batch size. */
    public static final int ADM_BATCH = 64;
    /** Rows per precision/recall distance block. */
    public static final int PR_ROW_BATCH = 1024;

    private AdmEvaluation() {
    }

    /** The scores; {@code referenceStatsFromFile} says the FID/sFID reference statistics came precomputed. */
    public record Result(double inceptionScore, double fid, double sfid, double precision, double recall, int samples,
            int references, boolean referenceStatsFromFile) {
    }

    /** The reference side: statistics for FID and sFID and the pool features for precision/recall. */
    public record Reference(FeatureStatistics pool, FeatureStatistics spatial, float[] poolFeatures, int count,
            boolean statsFromFile) {
    }

    /** The Inception outputs of every image of {@code name} in an .npz, in batches; progress lines to {@code log}. */
    public static InceptionFeatures extract(NpzFile npz, String name, FidInception net, NDManager manager, int batch,
            Consumer<String> log) throws IOException {
        List<InceptionFeatures> parts = new ArrayList<>();
        long t0 = System.nanoTime();
        long[] lastLog = {t0};
        int total = Math.toIntExact(npz.header(name).shape()[0]);
        npz.streamImages(name, batch, (nhwc, count, h, w) -> {
            parts.add(net.features(nhwc, count, h, w, manager, batch));
            long now = System.nanoTime();
            int done = parts.stream().mapToInt(InceptionFeatures::count).sum();
            if (now - lastLog[0] > 10e9 || done == total) {
                lastLog[0] = now;
                double rate = done / ((now - t0) / 1e9);
                log.accept(String.format(Locale.ROOT, "%s %s: %d/%d images, %.1f images/s, ETA %.0f s",
                        npz.path().getFileName(), name, done, total, rate, (total - done) / rate));
            }
        });
        return InceptionFeatures.concat(parts);
    }

    /** Where the reference's features are cached for these weights. */
    public static Path cachePath(Path refNpz, String fingerprint) {
        String file = refNpz.getFileName().toString();
        String stem = file.endsWith(".npz") ? file.substring(0, file.length() - 4) : file;
        return refNpz.resolveSibling(stem + ".inception-" + fingerprint + ".npz");
    }

    /**
     * The reference: from its cache when present, else computed (Inception over {@code arr_0}) and cached; an
     * unwritable folder only skips the cache (said on {@code log}).
     */
    public static Reference reference(Path refNpz, FidInception net, NDManager manager, int batch, Consumer<String> log)
            throws IOException {
        Path cache = cachePath(refNpz, net.fingerprint());
        float[] pool;
        int n;
        FeatureStatistics poolStats = null;
        FeatureStatistics spatialStats = null;
        boolean fromFile;
        try (NpzFile ref = NpzFile.open(refNpz)) {
            fromFile = ref.contains("mu");
            if (fromFile) {
                for (String k : new String[] {"sigma", "mu_s", "sigma_s"}) {
                    if (!ref.contains(k)) {
                        throw new IOException(refNpz + ": has 'mu' but no '" + k + "' (ADM reference batches have mu, "
                                + "sigma, mu_s, sigma_s)");
                    }
                }
                int d = FidInception.POOL_DIM;
                int ds = FidInception.SPATIAL_DIM;
                poolStats = new FeatureStatistics(ref.doubles("mu", d), ref.doubles("sigma", d, d), d);
                spatialStats = new FeatureStatistics(ref.doubles("mu_s", ds), ref.doubles("sigma_s", ds, ds), ds);
            }
            if (Files.isRegularFile(cache)) {
                try (NpzFile c = NpzFile.open(cache)) {
                    long[] shape = c.header("pool").shape();
                    n = Math.toIntExact(shape[0]);
                    pool = c.floats("pool", n, FidInception.POOL_DIM);
                    if (!fromFile) {
                        poolStats = new FeatureStatistics(c.doubles("mu", FidInception.POOL_DIM),
                                c.doubles("sigma", FidInception.POOL_DIM, FidInception.POOL_DIM), FidInception.POOL_DIM);
                        spatialStats = new FeatureStatistics(c.doubles("mu_s", FidInception.SPATIAL_DIM),
                                c.doubles("sigma_s", FidInception.SPATIAL_DIM, FidInception.SPATIAL_DIM),
                                FidInception.SPATIAL_DIM);
                    }
                }
                log.accept("reference features from the cache " + cache);
            } else {
                InceptionFeatures f = extract(ref, "arr_0", net, manager, batch, log);
                n = f.count();
                pool = f.pool();
                FeatureStatistics ps = FeatureStatistics.fit(f.pool(), n, FidInception.POOL_DIM, manager);
                FeatureStatistics ss = FeatureStatistics.fit(f.spatial(), n, FidInception.SPATIAL_DIM, manager);
                if (!fromFile) {
                    poolStats = ps;
                    spatialStats = ss;
                }
                Map<String, Object> arrays = new LinkedHashMap<>();
                Map<String, long[]> shapes = new LinkedHashMap<>();
                arrays.put("pool", pool);
                shapes.put("pool", new long[] {n, FidInception.POOL_DIM});
                put(arrays, shapes, "mu", "sigma", ps);
                put(arrays, shapes, "mu_s", "sigma_s", ss);
                try {
                    NpzFile.write(cache, arrays, shapes);
                    log.accept("reference features cached in " + cache);
                } catch (IOException e) {
                    log.accept("reference features not cached (" + cache + ": " + e.getMessage() + ")");
                }
            }
        }
        return new Reference(poolStats, spatialStats, pool, n, fromFile);
    }

    private static void put(Map<String, Object> arrays, Map<String, long[]> shapes, String mu, String sigma,
            FeatureStatistics s) {
        arrays.put(mu, s.mean());
        shapes.put(mu, new long[] {s.dim()});
        arrays.put(sigma, s.covariance());
        shapes.put(sigma, new long[] {s.dim(), s.dim()});
    }

    /** The five scores of {@code samples} against {@code ref}. */
    public static Result evaluate(InceptionFeatures samples, Reference ref, NDManager manager) {
        int n = samples.count();
        double is = InceptionScore.of(samples.logits(), n, FidInception.CLASSES, InceptionScore.ADM_SPLIT);
        FeatureStatistics pool = FeatureStatistics.fit(samples.pool(), n, FidInception.POOL_DIM, manager);
        FeatureStatistics spatial = FeatureStatistics.fit(samples.spatial(), n, FidInception.SPATIAL_DIM, manager);
        double fid = pool.frechetDistance(ref.pool(), manager);
        double sfid = spatial.frechetDistance(ref.spatial(), manager);
        PrecisionRecall.Result pr = PrecisionRecall.compute(ref.poolFeatures(), ref.count(), samples.pool(), n,
                FidInception.POOL_DIM, PrecisionRecall.K, PR_ROW_BATCH, manager);
        return new Result(is, fid, sfid, pr.precision(), pr.recall(), n, ref.count(), ref.statsFromFile());
    }
}
