package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiTConfig;

/**
 * {@code model:} either a published name ({@code DiT-XL/2}) at an image size, whose latent side is
 * image_size / 8, or a custom shape (name absent; input_size is then the side of what the model sees,
 * e.g. 28 for Fashion-MNIST pixels).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ModelSpec(
        String name,
        Integer imageSize,
        Integer inputSize,
        Integer patchSize,
        Integer hiddenSize,
        Integer depth,
        Integer numHeads,
        Integer inChannels,
        Integer numClasses,
        Boolean learnSigma,
        String conditioning,
        Double classDropoutProb) {

    public ModelSpec {
        imageSize = orDefault(imageSize, 256);
        inChannels = orDefault(inChannels, 4);
        numClasses = orDefault(numClasses, 1000);
        learnSigma = orDefault(learnSigma, true);
        conditioning = orDefault(conditioning, Conditioning.ADALN_ZERO.id());
        classDropoutProb = orDefault(classDropoutProb, 0.1);
        if (name != null) {
            require(inputSize == null && patchSize == null && hiddenSize == null && depth == null && numHeads == null,
                    "model.name", "a published name fixes input/patch/hidden size, depth and heads; remove those or the name");
        } else {
            require(inputSize != null && patchSize != null && hiddenSize != null && depth != null && numHeads != null,
                    "model", "give either name (e.g. DiT-XL/2) or all of input_size, patch_size, hidden_size, depth, num_heads");
        }
    }

    /** Builds (and so validates) the model shape; errors name the field. */
    public DiTConfig toDiTConfig() {
        try {
            Conditioning c = Conditioning.fromId(conditioning);
            if (name != null) {
                DiTConfig base = DiTConfig.named(name, imageSize, inChannels, numClasses).withConditioning(c);
                return new DiTConfig(base.inputSize(), base.patchSize(), base.inChannels(), base.hiddenSize(),
                        base.depth(), base.numHeads(), base.mlpRatio(), classDropoutProb, numClasses, learnSigma, c);
            }
            return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, 4.0, classDropoutProb,
                    numClasses, learnSigma, c);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("model." + e.getMessage(), e);
        }
    }
}
