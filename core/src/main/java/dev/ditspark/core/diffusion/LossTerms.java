package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The hybrid training loss of a batch, per sample (docs/diffusion.md, "Training loss"): x_t (N, C, H, W), mse (N), vb (N, in
 * bits; zeros for a model without sigma channels, whose loss is the mse only) and loss = mse + vb (N).
 */
public record LossTerms(NDArray xT, NDArray mse, NDArray vb, NDArray loss) {
    /** The batch loss: the per-sample losses averaged (no extra weight). */
    public NDArray meanLoss() {
        return loss.mean();
    }
}
