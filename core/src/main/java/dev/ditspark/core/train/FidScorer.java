package dev.ditspark.core.train;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.eval.AdmEvaluation;
import dev.ditspark.core.eval.FeatureStatistics;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.InceptionScore;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.core.sample.SampleImages;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code eval.metric: fid}: FID-N and Inception Score of the samples with the FID Inception-v3 (issue 11 item 4),
 * defined as ADM's evaluator defines them ({@link AdmEvaluation}): {@value #FID} is the Fréchet distance of the
 * samples' 2048-d pool features to the reference's statistics, {@value #INCEPTION_SCORE} the Inception Score of their
 * logits (one split when N ≤ 5,000, as ADM). FID-N is biased upwards for small N, so it is comparable only between
 * evaluations of the same eval.samples, and never with a paper's FID-50K.
 *
 * <p>The reference is read once, before the first step: an ADM reference batch's precomputed {@code mu} and
 * {@code sigma} are used as they are (its images are not needed); an .npz of real images in {@code arr_0} has its
 * statistics computed with this Inception and cached next to it, as {@code dit eval --ref} does (the same cache file,
 * so either reuses the other's).
 */
public final class FidScorer implements SampleScorer {
    public static final String FID = "fid";
    public static final String INCEPTION_SCORE = "inception_score";

    private final NDManager manager;
    private final FidInception net;
    private final FeatureStatistics reference;
    private final int batch;

    /**
     * Loads the Inception ({@code inception} a safetensors path, or {@code randomSeed} non-null for random weights)
     * and the reference statistics of {@code referenceNpz}.
     *
     * @param batch images per Inception forward
     * @throws UncheckedIOException a file cannot be read or is not what it should be; the message names
     *     eval.inception or eval.reference and the file
     */
    public FidScorer(Path referenceNpz, String inception, Long randomSeed, int batch, NDManager parent,
            Consumer<String> log) {
        this.batch = batch;
        manager = parent.newSubManager();
        try {
            if (randomSeed != null) {
                net = FidInception.random(randomSeed, manager);
                log.accept("eval.inception: random weights (seed " + randomSeed + "): the FID and IS mean nothing");
            } else {
                Path file = Path.of(inception);
                if (!Files.isRegularFile(file)) {
                    throw missing("eval.inception " + inception + ": no such file");
                }
                try {
                    net = FidInception.load(file, manager);
                } catch (IOException | RuntimeException e) {
                    throw new UncheckedIOException(named("eval.inception", inception, e.getMessage()),
                            e instanceof IOException io ? io : new IOException(e.getMessage(), e));
                }
            }
            if (!Files.isRegularFile(referenceNpz)) {
                throw missing("eval.reference " + referenceNpz + ": no such file");
            }
            try {
                reference = referenceStatistics(referenceNpz, net, manager, batch, log);
            } catch (IOException e) {
                throw new UncheckedIOException(named("eval.reference", referenceNpz.toString(), e.getMessage()), e);
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** "FIELD FILE: what", whether or not {@code message} already starts with the file. */
    static String named(String field, String file, String message) {
        return field + " " + (message != null && message.startsWith(file) ? message : file + ": " + message);
    }

    private static UncheckedIOException missing(String msg) {
        return new UncheckedIOException(msg, new FileNotFoundException(msg));
    }

    /**
     * The reference's pool statistics: its {@code mu}, {@code sigma} when present (ADM reference batches), else
     * those of its {@code arr_0} images through {@code net}, computed once and cached ({@link AdmEvaluation#reference}).
     */
    static FeatureStatistics referenceStatistics(Path npz, FidInception net, NDManager manager, int batch,
            Consumer<String> log) throws IOException {
        try (NpzFile ref = NpzFile.open(npz)) {
            if (ref.contains("mu")) {
                if (!ref.contains("sigma")) {
                    throw new IOException("has 'mu' but no 'sigma' (ADM reference batches have mu, sigma, mu_s, sigma_s)");
                }
                int d = FidInception.POOL_DIM;
                return new FeatureStatistics(ref.doubles("mu", d), ref.doubles("sigma", d, d), d);
            }
            ref.checkImages("arr_0");
        }
        return AdmEvaluation.reference(npz, net, manager, batch, log).pool();
    }

    @Override
    public Map<String, Double> score(SampleImages images, long[] labels) {
        int n = images.count();
        int h = images.height();
        int w = images.width();
        byte[] nhwc = new byte[n * h * w * 3];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    for (int ch = 0; ch < 3; ch++) {
                        nhwc[k++] = (byte) images.pixel(i, r, c, ch);
                    }
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        try (NDManager scope = manager.newSubManager()) {
            InceptionFeatures f = net.features(nhwc, n, h, w, scope, batch);
            FeatureStatistics s = FeatureStatistics.fit(f.pool(), n, FidInception.POOL_DIM, scope);
            out.put(FID, s.frechetDistance(reference, scope));
            out.put(INCEPTION_SCORE, InceptionScore.of(f.logits(), n, FidInception.CLASSES, InceptionScore.ADM_SPLIT));
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
