package dev.ditspark.core.train;

import dev.ditspark.core.sample.SampleImages;
import java.util.Map;

/**
 * What scores the samples of an evaluation while training ({@code eval.metric}; issue 11 item 4). Rank 0 makes one
 * per run ({@link TrainingSamples}), before the first step, so reference statistics are computed once; every
 * {@code eval.every} steps it hands over {@code eval.samples} images sampled from the EMA weights with fixed noise.
 *
 * <p>The Fashion-MNIST classifier metrics of the demo are {@link FashionScorer}; FID-N and Inception Score with the
 * FID Inception-v3 for latent models are {@link FidScorer}. Another plugs in the same way: a class implementing
 * this, its name in {@code EvalSpec.METRICS} and a case in {@link TrainingSamples#scorer}.
 */
public interface SampleScorer extends AutoCloseable {
    /**
     * Scores {@code images} (N decoded samples, uint8 RGB) sampled for {@code labels} (N classes).
     *
     * @return metric name → value, as metrics.jsonl's {@code eval} object holds them (snake_case names; NaN when a
     *     value cannot be computed)
     */
    Map<String, Double> score(SampleImages images, long[] labels);

    /**
     * A short human reading of {@code scores} for the log line (e.g. which class is worst); the numbers themselves
     * are printed anyway.
     */
    default String describe(Map<String, Double> scores) {
        return "";
    }

    /** Frees what the scorer holds (network weights, reference statistics). */
    @Override
    default void close() {
    }
}
