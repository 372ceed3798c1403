package dev.ditspark.core.eval;

import java.util.List;

/**
 * The evaluation network's outputs for {@code count} images as host arrays, row-major: {@code pool}
 * (count × {@value FidInception#POOL_DIM}), {@code spatial} (count × {@value FidInception#SPATIAL_DIM}) and
 * {@code logits} (count × {@value FidInception#CLASSES}), all float32 (see {@link FidInception}).
 */
public record InceptionFeatures(int count, float[] pool, float[] spatial, float[] logits) {

    public InceptionFeatures {
        if (pool.length != (long) count * FidInception.POOL_DIM || spatial.length != (long) count * FidInception.SPATIAL_DIM
                || logits.length != (long) count * FidInception.CLASSES) {
            throw new IllegalArgumentException("feature arrays do not hold " + count + " images");
        }
    }

    /** The parts one after the other (chunks computed separately, in order). */
    public static InceptionFeatures concat(List<InceptionFeatures> parts) {
        int n = parts.stream().mapToInt(InceptionFeatures::count).sum();
        float[] pool = new float[Math.multiplyExact(n, FidInception.POOL_DIM)];
        float[] spatial = new float[Math.multiplyExact(n, FidInception.SPATIAL_DIM)];
        float[] logits = new float[Math.multiplyExact(n, FidInception.CLASSES)];
        int at = 0;
        for (InceptionFeatures p : parts) {
            System.arraycopy(p.pool, 0, pool, at * FidInception.POOL_DIM, p.pool.length);
            System.arraycopy(p.spatial, 0, spatial, at * FidInception.SPATIAL_DIM, p.spatial.length);
            System.arraycopy(p.logits, 0, logits, at * FidInception.CLASSES, p.logits.length);
            at += p.count;
        }
        return new InceptionFeatures(n, pool, spatial, logits);
    }
}
