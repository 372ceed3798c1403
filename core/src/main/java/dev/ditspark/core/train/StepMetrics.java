package dev.ditspark.core.train;

/**
 * What one optimizer step reports, averaged over the global batch.
 *
 * @param step optimizer steps completed (this one included)
 * @param loss mse + vb
 * @param stepSeconds wall time of this step on this worker
 */
public record StepMetrics(long step, long epoch, double loss, double mse, double vb, double stepSeconds,
        int globalBatch) {

    public double imagesPerSecond() {
        return globalBatch / stepSeconds;
    }
}
