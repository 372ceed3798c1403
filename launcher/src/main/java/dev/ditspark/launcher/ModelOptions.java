package dev.ditspark.launcher;

import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.weights.SafetensorsFile;

/** {@code --model}, {@code --image-size} and the weights' label table, with errors naming the options. */
final class ModelOptions {
    private ModelOptions() { }

    /** A published DiT by its --model name; an unknown name lists the valid ones. */
    static DiTConfig named(String model, int imageSize, int inChannels, int numClasses) {
        return named("--model", model, imageSize, inChannels, numClasses);
    }

    /** The same for a model name given by {@code option} (e.g. one of --models). */
    static DiTConfig named(String option, String model, int imageSize, int inChannels, int numClasses) {
        try {
            return DiTConfig.named(model, imageSize, inChannels, numClasses);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            if (m.startsWith("name: ")) {
                throw new IllegalArgumentException(option + ": " + m.substring("name: ".length()), e);
            }
            if (m.startsWith("image_size: ")) {
                throw new IllegalArgumentException("--image-size: " + m.substring("image_size: ".length()), e);
            }
            throw e;
        }
    }

    /**
     * {@code config} matched to the label table of {@code weights}: num_classes rows is a model trained without
     * label dropout (no null class), num_classes + 1 one with it; other counts are left to the weight check,
     * which names every mismatched key.
     */
    static DiTConfig matchLabelTable(DiTConfig config, SafetensorsFile weights) {
        if (!weights.contains(DiTConfig.LABEL_TABLE)) {
            return config; // the weight check names the missing key
        }
        long rows = weights.info(DiTConfig.LABEL_TABLE).shape()[0];
        try {
            return config.withLabelRows(rows);
        } catch (IllegalArgumentException e) {
            return config; // another model altogether: the weight check names every key that differs
        }
    }
}
