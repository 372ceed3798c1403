package dev.ditspark.core.sample;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The class of every sample of a request, as a rule rather than a list (a 50,000-sample request travels to
 * the cluster in a few bytes): an explicit list ({@code --labels}), {@code perClass} samples of each of classes
 * 0..classes-1 in class-major order ({@code --classes C --per-class K}), or {@code count} labels drawn uniformly
 * from 0..classes-1 ({@code --num-samples N}, as DiT's sample_ddp.py draws them; label i depends on (seed, i)
 * only, see {@link PerSampleNoise#uniformLabels}).
 *
 * @param kind "list", "per-class" or "uniform"
 */
public record SampleLabels(String kind, long[] list, int classes, int perClass, int count, long seed)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public SampleLabels {
        if (!kind.equals("list") && !kind.equals("per-class") && !kind.equals("uniform")) {
            throw new IllegalArgumentException("labels: list, per-class or uniform, got " + kind);
        }
    }

    public static SampleLabels list(long[] labels) {
        return new SampleLabels("list", labels.clone(), 0, 0, labels.length, 0);
    }

    public static SampleLabels perClass(int classes, int perClass) {
        return new SampleLabels("per-class", null, classes, perClass, Math.multiplyExact(classes, perClass), 0);
    }

    public static SampleLabels uniform(int count, int classes, long seed) {
        return new SampleLabels("uniform", null, classes, 0, count, seed);
    }

    /** The label of each sample, in order. */
    public long[] toArray() {
        return switch (kind) {
            case "list" -> list.clone();
            case "per-class" -> SampleGenerator.perClassLabels(classes, perClass);
            default -> PerSampleNoise.uniformLabels(seed, count, classes);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleLabels l && l.kind.equals(kind) && Arrays.equals(l.list, list) && l.classes == classes
                && l.perClass == perClass && l.count == count && l.seed == seed;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(list) * 31 + kind.hashCode() + classes * 7 + perClass * 13 + count * 17 + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case "list" -> "labels " + Arrays.toString(list);
            case "per-class" -> perClass + " per class of " + classes + " classes";
            default -> count + " uniform labels of " + classes + " classes";
        };
    }
}
