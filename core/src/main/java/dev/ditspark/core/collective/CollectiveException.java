package dev.ditspark.core.collective;

/**
 * A collective operation failed: a peer closed its connection, stayed silent past the timeout, or called a
 * different operation. The message names this rank and the peer. The collective is unusable afterwards.
 */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
