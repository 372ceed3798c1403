package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code collective:} how workers average gradients: {@code tcp} (ring allreduce over sockets, CPU nodes) or
 * {@code nccl} (GPU nodes). A peer silent for timeout_seconds fails the step instead of hanging it.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CollectiveSpec(String backend, Integer timeoutSeconds, Integer bucketMb) {
    public CollectiveSpec {
        backend = orDefault(backend, "tcp");
        timeoutSeconds = orDefault(timeoutSeconds, 300);
        bucketMb = orDefault(bucketMb, 25);
        require(backend.equals("tcp") || backend.equals("nccl"), "collective.backend", "tcp or nccl, got " + backend);
        require(timeoutSeconds > 0, "collective.timeout_seconds", "must be positive, got " + timeoutSeconds);
        require(bucketMb > 0, "collective.bucket_mb", "must be positive, got " + bucketMb);
    }

    public static CollectiveSpec defaults() {
        return new CollectiveSpec(null, null, null);
    }
}
