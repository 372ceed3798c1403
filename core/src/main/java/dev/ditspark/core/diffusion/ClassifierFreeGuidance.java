package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.ditspark.core.model.DiT;
import java.util.Arrays;

/**
 * Sampling a DiT with classifier-free guidance (docs/model.md, "Guided forward"): the batch is [z; z] with
 * labels [y; null], each step calls {@link DiT#forwardWithCfg} (which guides the first 3 ε channels by
 * default, all C with {@code allChannels}), and the result is the first half. As the reference's sample
 * script, guidance is used only for a scale above 1; otherwise the plain forward on (z, y) (no unconditional
 * half). A model without a null class (class_dropout_prob = 0) accepts only scale 1.
 *
 * @throws IllegalArgumentException from the constructor: a non-finite scale, or a scale other than 1 on a model
 *     without a null class
 */
public final class ClassifierFreeGuidance {
    private final DiT model;
    private final double scale;
    private final boolean allChannels;

    public ClassifierFreeGuidance(DiT model, double scale, boolean allChannels) {
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("cfg_scale: must be finite, got " + scale);
        }
        if (scale != 1.0 && !model.config().hasNullClass()) {
            throw new IllegalArgumentException(noNullClassMessage(scale));
        }
        this.model = model;
        this.scale = scale;
        this.allChannels = allChannels;
    }

    /**
     * The refusal for a guidance scale other than 1 on a model without a null class: it was trained with
     * class_dropout_prob = 0, so the unconditional half would use an embedding row that never trained.
     */
    public static String noNullClassMessage(double scale) {
        return "guidance scale " + scale + " needs a null class, but this model was trained without label dropout "
                + "(model.class_dropout_prob = 0) and has none; sample it with --cfg-scale 1";
    }

    /** The reference's default: guide the first 3 ε channels. */
    public ClassifierFreeGuidance(DiT model, double scale) {
        this(model, scale, false);
    }

    /** Whether sampling doubles the batch (scale > 1, as the reference's {@code using_cfg}). */
    public boolean active() {
        return scale > 1.0;
    }

    public double scale() {
        return scale;
    }

    /** The guided model for a doubled batch [z; z] with labels [y; null] (the batch the model sees). */
    public Denoiser denoiser() {
        return (x, t, y) -> model.forwardWithCfg(x, t, y, scale, allChannels);
    }

    /** [z; z] on z's manager. */
    public static NDArray doubledBatch(NDArray z) {
        return z.concat(z, 0);
    }

    /** [y; null, …, null], null = num_classes. */
    public long[] doubledLabels(long[] y) {
        long[] out = new long[2 * y.length];
        System.arraycopy(y, 0, out, 0, y.length);
        Arrays.fill(out, y.length, out.length, model.config().nullClass());
        return out;
    }

    /** The first half of a doubled batch (the conditional samples), as its own tensor on x's manager. */
    public static NDArray firstHalf(NDArray x) {
        try (NDArray view = x.get(new NDIndex(":{}", x.getShape().get(0) / 2))) {
            return view.duplicate(); // a copy, so the doubled batch's memory can go
        }
    }

    /**
     * Samples x0 for labels y from x_T = z (N, C, H, W). Guided, the noise source is asked for draws of the
     * doubled batch (2N, C, H, W), as the reference draws them. The result (N, C, H, W) is on z's manager.
     */
    public NDArray sample(GaussianDiffusion diffusion, NDArray z, long[] y, Sampler sampler, NoiseSource noise,
            ProgressListener listener) {
        if (y.length != z.getShape().get(0)) {
            throw new IllegalArgumentException(y.length + " labels for a batch of " + z.getShape().get(0));
        }
        NDManager manager = z.getManager();
        if (!active()) {
            try (NDArray labels = manager.create(y)) {
                return diffusion.sample(model::forward, z, labels, sampler, noise, listener);
            }
        }
        try (NDArray doubled = doubledBatch(z);
                NDArray labels = manager.create(doubledLabels(y));
                NDArray out = diffusion.sample(denoiser(), doubled, labels, sampler, noise, listener)) {
            return firstHalf(out);
        }
    }
}
