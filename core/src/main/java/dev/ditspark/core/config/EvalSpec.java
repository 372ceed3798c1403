package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.ditspark.core.model.DiTConfig;
import java.util.List;

/**
 * {@code eval:} evaluation while training (issue 11 item 4). Every {@code every} optimizer steps (and at the run's
 * last step) rank 0 samples {@code samples} images from the EMA weights (sample.* settings, fixed noise and
 * class-balanced labels, so the numbers are comparable across steps), scores them with {@code metric} and writes
 * the results with the step into metrics.jsonl (its {@code eval} object) and the plots (TrainingSamples).
 *
 * @param every steps between evaluations; 0 (the default) evaluates never
 * @param samples images sampled per evaluation (at least 2; a multiple of the class count keeps classes balanced)
 * @param metric what scores them: {@code fashion}, the Fashion-MNIST classifier of {@code dit eval} (class
 *     accuracy, worst class, Fréchet distance in its features), for 28×28 one-channel 10-class models; {@code fid},
 *     FID-N and Inception Score with the FID Inception-v3 against {@code reference}, for RGB models (latent models
 *     decoded through sample.vae, or 3-channel pixel models)
 * @param classifier {@code fashion}: the cached classifier weights (a local path); trained on the training split
 *     and written there when missing (default: where {@code dit eval} caches it, runs/classifier/)
 * @param reference {@code fid}: the reference .npz (a local path on rank 0's machine): an ADM reference batch (its precomputed
 *     {@code mu}, {@code sigma} are used) or real images in {@code arr_0} (statistics computed once and cached
 *     next to it, as {@code dit eval --ref} does)
 * @param inception {@code fid}: the FID Inception-v3 weights (a local safetensors path, converted by
 *     tools/convert_pt_inception.py), or {@code random:SEED} for random weights (tests: the numbers mean nothing)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EvalSpec(Long every, Integer samples, String metric, String classifier, String reference,
        String inception) {
    /** The Fashion-MNIST classifier metrics of the demo. */
    public static final String FASHION = "fashion";
    /** FID-N and Inception Score with the FID Inception-v3 (latent and RGB models). */
    public static final String FID = "fid";
    /** {@code eval.inception}'s prefix for random weights. */
    public static final String RANDOM = "random:";
    /** The metrics a run can evaluate while training; a new one also needs its scorer in TrainingSamples#scorer. */
    public static final List<String> METRICS = List.of(FASHION, FID);

    public EvalSpec {
        every = orDefault(every, 0L);
        samples = orDefault(samples, 100);
        metric = orDefault(metric, FASHION);
        require(every >= 0, "eval.every", "must not be negative (0 = no evaluation while training), got " + every);
        require(samples >= 2, "eval.samples", "must be at least 2 (a Fréchet distance needs two), got " + samples);
        require(METRICS.contains(metric), "eval.metric", "one of " + String.join(", ", METRICS) + ", got " + metric);
        require(classifier == null || !classifier.isBlank(), "eval.classifier", "must name a file (or be left out)");
        require(reference == null || !reference.isBlank(), "eval.reference", "must name a file (or be left out)");
        require(inception == null || !inception.isBlank(), "eval.inception", "must name a file (or be left out)");
        if (every > 0 && metric.equals(FID)) {
            require(reference != null, "eval.reference", "eval.metric fid needs the reference .npz (an ADM reference "
                    + "batch such as VIRTUAL_imagenet256_labeled.npz, or real images in arr_0; docs/evaluation.md)");
            require(inception != null, "eval.inception", "eval.metric fid needs the FID Inception-v3 weights (a "
                    + "safetensors file converted by tools/convert_pt_inception.py; docs/evaluation.md)");
            if (inception.startsWith(RANDOM)) {
                require(inception.substring(RANDOM.length()).matches("-?[0-9]{1,18}"), "eval.inception",
                        "expected random:SEED with an integer SEED, got " + inception);
            }
        }
    }

    public static EvalSpec defaults() {
        return new EvalSpec(null, null, null, null, null, null);
    }

    /** The seed of {@code eval.inception: random:SEED}, or null when it names a weights file. */
    public Long randomInceptionSeed() {
        return inception != null && inception.startsWith(RANDOM) ? Long.parseLong(inception.substring(RANDOM.length()))
                : null;
    }

    /** Whether any evaluation runs while training. */
    public boolean enabled() {
        return every > 0;
    }

    /** @throws ConfigException eval.metric does not fit the model */
    void checkAgainst(DiTConfig model) {
        if (enabled() && metric.equals(FASHION)) {
            require(model.inChannels() == 1 && model.inputSize() == 28 && model.numClasses() == 10, "eval.metric",
                    "fashion scores 28x28 one-channel samples of 10 classes, this model samples " + model.inChannels()
                            + "x" + model.inputSize() + "x" + model.inputSize() + " of " + model.numClasses() + " classes");
        }
        if (enabled() && metric.equals(FID)) {
            // The Inception scores RGB images: a latent model's decodings or 3-channel pixels, not Fashion-MNIST.
            require(model.inChannels() != 1, "eval.metric", "fid scores RGB images (a latent model decoded through "
                    + "sample.vae, or a 3-channel pixel model), this model samples one-channel images; use "
                    + "eval.metric fashion");
        }
    }
}
