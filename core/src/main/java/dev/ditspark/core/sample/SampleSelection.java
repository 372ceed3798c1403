package dev.ditspark.core.sample;

import java.util.List;

/**
 * Which samples {@code dit sample} draws and which of them grid.png shows: explicit {@code labels}, {@code numSamples}
 * uniform labels of all classes (as DiT's {@code sample_ddp.py}), or {@code perClass} samples of each of the first
 * {@code classes} classes. Errors name the option they come from ({@code --labels}, {@code --classes}, ...).
 *
 * @param labels explicit labels, or null
 * @param numSamples N uniform labels, or null
 * @param classes how many classes with {@code perClass}, or null for all (at most {@value #DEFAULT_CLASSES})
 * @param perClass samples per class
 * @param perClassGiven true when {@code perClass} was asked for (not a default): refused with the other two kinds
 * @param gridPerClass grid columns per class, or null for {@code perClass} (at most {@value #GRID_COLUMNS})
 */
public record SampleSelection(List<Long> labels, Integer numSamples, Integer classes, int perClass, boolean perClassGiven,
        Integer gridPerClass) {
    /** Grid rows (classes) at most. */
    public static final int GRID_ROWS = 10;
    /** Grid columns at most, unless {@code gridPerClass} asks for more. */
    public static final int GRID_COLUMNS = 16;
    /** Classes sampled with {@code perClass} when {@code classes} is not given (at most). */
    public static final int DEFAULT_CLASSES = 10;
    /** Samples of a {@code numSamples} request that grid.png shows (the first ones, 8 a row). */
    private static final int UNIFORM_GRID = 64;

    /** {@code perClass} samples of each of the first classes, the first {@code gridPerClass} of each in the grid. */
    public static SampleSelection perClass(int perClass, int gridPerClass) {
        return new SampleSelection(null, null, null, perClass, true, gridPerClass);
    }

    /**
     * Refuses a contradictory or empty selection before anything is loaded.
     *
     * @throws IllegalArgumentException one line naming the option
     */
    public void check() {
        if (labels != null && classes != null) {
            throw new IllegalArgumentException("--labels and --classes: give one (--labels lists the classes itself)");
        }
        if (numSamples != null && (labels != null || classes != null || perClassGiven)) {
            throw new IllegalArgumentException("--num-samples: draws uniform labels of all classes; not with "
                    + (labels != null ? "--labels" : classes != null ? "--classes" : "--per-class"));
        }
        if (numSamples != null && numSamples < 1) {
            throw new IllegalArgumentException("--num-samples: must be at least 1, got " + numSamples);
        }
        if (labels != null && labels.isEmpty()) {
            throw new IllegalArgumentException("--labels: give at least one class");
        }
    }

    /**
     * The label of each sample for a model of {@code numClasses} classes.
     *
     * @param seed with {@code numSamples}: label i depends on (seed, i) alone
     * @throws IllegalArgumentException a label or class count the model does not have
     */
    public SampleLabels labels(int numClasses, long seed) {
        if (labels != null) {
            for (long label : labels) {
                if (label < 0 || label >= numClasses) {
                    throw new IllegalArgumentException("--labels: " + label + " is not a class of this model (0.."
                            + (numClasses - 1) + ")");
                }
            }
            return SampleLabels.list(labels.stream().mapToLong(Long::longValue).toArray());
        }
        if (numSamples != null) {
            return SampleLabels.uniform(numSamples, numClasses, seed);
        }
        if (classes != null && classes > numClasses) {
            throw new IllegalArgumentException("--classes: " + classes + " classes asked, this model has " + numClasses);
        }
        return SampleLabels.perClass(classes != null ? classes : Math.min(DEFAULT_CLASSES, numClasses), perClass);
    }

    /** grid.png: the first columns of each of the first classes; explicit labels: up to 10; uniform: the first 64. */
    public SampleOutput.Grid grid(SampleLabels y) {
        if (y.kind().equals("list")) {
            int n = Math.min(y.count(), GRID_ROWS);
            return SampleOutput.Grid.first(n, n);
        }
        if (y.kind().equals("uniform")) {
            return SampleOutput.Grid.first(Math.min(y.count(), UNIFORM_GRID), Math.min(y.count(), 8));
        }
        int columns = Math.min(perClass, gridPerClass != null ? gridPerClass : Math.min(perClass, GRID_COLUMNS));
        return SampleOutput.Grid.perClass(Math.min(y.classes(), GRID_ROWS), perClass, columns);
    }
}
