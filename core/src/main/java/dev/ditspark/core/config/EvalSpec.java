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
 *     accuracy, worst class, Fréchet distance in its features), for 28×28 one-channel 10-class models
 * @param classifier {@code fashion}: the cached classifier weights (a local path); trained on the training split
 *     and written there when missing (default: where {@code dit eval} caches it, runs/classifier/)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EvalSpec(Long every, Integer samples, String metric, String classifier) {
    /** The Fashion-MNIST classifier metrics of the demo. */
    public static final String FASHION = "fashion";
    /** The metrics a run can evaluate while training; a new one also needs its scorer in InTrainingEvaluation. */
    public static final List<String> METRICS = List.of(FASHION);

    public EvalSpec {
        every = orDefault(every, 0L);
        samples = orDefault(samples, 100);
        metric = orDefault(metric, FASHION);
        require(every >= 0, "eval.every", "must not be negative (0 = no evaluation while training), got " + every);
        require(samples >= 2, "eval.samples", "must be at least 2 (a Fréchet distance needs two), got " + samples);
        require(METRICS.contains(metric), "eval.metric", "one of " + String.join(", ", METRICS) + ", got " + metric);
        require(classifier == null || !classifier.isBlank(), "eval.classifier", "must name a file (or be left out)");
    }

    public static EvalSpec defaults() {
        return new EvalSpec(null, null, null, null);
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
    }
}
