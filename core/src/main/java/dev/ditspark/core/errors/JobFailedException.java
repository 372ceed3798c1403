package dev.ditspark.core.errors;

/**
 * A distributed job (training, dit prepare) failed for a reason that retrying might have cured but did not
 * (a lost executor, a store that stayed unreachable): the message is the root cause in one line, with the number
 * of attempts, never Spark's stack trace.
 */
public class JobFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JobFailedException(String message) {
        super(message);
    }
}
