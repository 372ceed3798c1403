package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code collective:} how workers average gradients: {@code tcp} (ring allreduce over sockets, CPU nodes) or
 * {@code nccl} (GPU nodes). A peer silent for timeout_seconds fails the step instead of hanging it.
 *
 * @param allreduceDtype the type gradients travel in ({@link FloatType}, stored as float32, float16 or bfloat16;
 *     fp32/fp16/bf16 accepted): {@code float32} (default, exact float32 sums), or {@code bfloat16} / {@code float16},
 *     which halve the bytes moved: each gradient is divided by the world size in float32, cast,
 *     summed in that type and cast back (PyTorch DDP's bf16/fp16 compression hooks)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CollectiveSpec(String backend, Integer timeoutSeconds, Integer bucketMb, String allreduceDtype) {
    public CollectiveSpec {
        backend = orDefault(backend, "tcp");
        timeoutSeconds = orDefault(timeoutSeconds, 300);
        bucketMb = orDefault(bucketMb, 25);
        require(backend.equals("tcp") || backend.equals("nccl"), "collective.backend", "tcp or nccl, got " + backend);
        require(timeoutSeconds > 0, "collective.timeout_seconds", "must be positive, got " + timeoutSeconds);
        require(bucketMb > 0, "collective.bucket_mb", "must be positive, got " + bucketMb);
        try { // any FloatType spelling (fp16, bf16, float16...), kept as its one spelling
            allreduceDtype = FloatType.parse(orDefault(allreduceDtype, "float32"), "collective.allreduce_dtype").id();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    public static CollectiveSpec defaults() {
        return new CollectiveSpec(null, null, null, null);
    }
}
