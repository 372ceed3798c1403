package dev.ditspark.core.train;

/**
 * What one optimizer step reports, averaged over the global batch.
 *
 * @param step optimizer steps completed (this one included)
 * @param loss mse + vb
 * @param mse the noise-prediction (simple) loss term
 * @param vb the variational-bound term (0 without learned sigma)
 * @param stepSeconds wall time of this step on this worker
 * @param gradientNorm the L2 norm of the averaged gradients, on steps that are logged (train.log_every); else NaN
 */
public record StepMetrics(long step, long epoch, double loss, double mse, double vb, double stepSeconds,
        int globalBatch, double gradientNorm) {

    public double imagesPerSecond() {
        return globalBatch / stepSeconds;
    }
}
