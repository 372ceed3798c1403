package dev.ditspark.core.checkpoint;

/** A checkpoint cannot be written or read; the message names the checkpoint directory or file. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
