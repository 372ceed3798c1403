package dev.ditspark.core.data;

/**
 * One row of a latent dataset as written: the class label, the encoder posterior's mean and std of the
 * image and of its horizontal mirror (each C×H×W, row-major), and where the image came from (a file path,
 * or e.g. "fashion-mnist/train/123"). Arrays are compared by identity, as in any record.
 */
public record LatentRecord(int label, float[] mean, float[] std, float[] meanFlip, float[] stdFlip, String source) {
}
