package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code checkpoint:} where the run's checkpoints go and how often.
 *
 * @param resume continue from the newest committed checkpoint under uri when there is one
 * @param initFrom reference-named safetensors weights to start from (fine-tuning); ignored when resuming
 * @param moveAside with resume false: move another run's checkpoints found under uri to a sibling directory
 *     ({@code NAME.moved-TIME}) instead of refusing to start
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CheckpointSpec(String uri, Integer every, Integer keepLast, Boolean resume, String initFrom,
        Boolean moveAside) {
    public CheckpointSpec {
        every = orDefault(every, 50_000);
        keepLast = orDefault(keepLast, 2);
        resume = orDefault(resume, true);
        moveAside = orDefault(moveAside, false);
        require(uri != null && !uri.isBlank(), "checkpoint.uri", "must name the run directory (file://, hdfs://, s3a://)");
        require(every > 0, "checkpoint.every", "must be positive, got " + every);
        require(keepLast > 0, "checkpoint.keep_last", "must be positive, got " + keepLast);
        Secrets.requireNoCredentials("checkpoint.uri", uri);
        Secrets.requireNoCredentials("checkpoint.init_from", initFrom);
    }
}
