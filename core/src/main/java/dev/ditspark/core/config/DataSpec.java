package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** {@code data:} the dataset written by {@code dit prepare} (or the Fashion-MNIST import): a Hadoop URI. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DataSpec(String uri) {
    public DataSpec {
        require(uri != null && !uri.isBlank(), "data.uri", "must name the dataset directory (file://, hdfs://, s3a://)");
        Secrets.requireNoCredentials("data.uri", uri);
    }
}
