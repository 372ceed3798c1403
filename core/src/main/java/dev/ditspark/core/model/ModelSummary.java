package dev.ditspark.core.model;

import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.nn.Parameter;

/**
 * What {@code dit info} reports about a configuration, computed from the model's own layers without
 * allocating any tensor.
 *
 * @param parameters every state_dict scalar, pos_embed included (docs/model.md's table counts it)
 * @param trainableParameters what the optimizer updates (pos_embed is fixed)
 * @param forwardMacs multiply-accumulates of one forward pass at batch 1 (the paper's "flops")
 * @param tokens patch tokens per image
 */
public record ModelSummary(DiTConfig config, long parameters, long trainableParameters, long forwardMacs, int tokens) {

    public static ModelSummary of(DiTConfig config) {
        DiT model = new DiT(config);
        long trainable = model.namedParameters().values().stream()
                .filter(Parameter::trainable).map(Parameter::shape).mapToLong(Shape::size).sum();
        return new ModelSummary(config, model.parameterCount(), trainable, model.forwardMacs(), config.numPatches());
    }

    /** Forward GMACs (10^9 multiply-accumulates), the unit of the paper's Gflops column. */
    public double forwardGmacs() {
        return forwardMacs / 1e9;
    }

    /** Training costs about 3× the forward (forward + backward for activations and weights). */
    public double trainingGmacsPerImage() {
        return 3 * forwardGmacs();
    }

    /** Bytes of the float32 weights. */
    public long weightBytes() {
        return 4 * parameters;
    }

    /**
     * Bytes a training worker holds besides activations: float32 weights, gradients, the EMA copy and
     * AdamW's two moments, all float32.
     */
    public long trainingStateBytes() {
        return 4 * parameters + 4 * trainableParameters * 4;
    }
}
