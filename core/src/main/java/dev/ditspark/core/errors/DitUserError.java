package dev.ditspark.core.errors;

/**
 * A failure that the same input gives again on every attempt: a bad option or config field, bad data (a
 * truncated shard), a missing file, an environment that cannot run the configuration (no GPU for the nccl
 * backend). Spark jobs fail at once on it instead of retrying their stage, and the command prints its message,
 * which names the file, rank, option or field, as its one {@code dit:} line.
 */
public class DitUserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DitUserError(String message) {
        super(message);
    }

    public DitUserError(String message, Throwable cause) {
        super(message, cause);
    }
}
