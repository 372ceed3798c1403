package dev.ditspark.core.errors;

import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Classifies a failure inside a job and finds the line to show for it. Used by the Spark tasks (to mark a
 * deterministic failure as {@link DitUserError}, which the driver does not retry) and by the drivers (to unwrap
 * Spark's exception into the root cause).
 */
public final class Failures {
    private static final String DETERMINISTIC_NAMES = String.join("|",
            "dev.ditspark.core.data.DatasetFormatException",
            "dev.ditspark.core.weights.WeightFormatException",
            "dev.ditspark.core.weights.WeightMismatchException",
            "dev.ditspark.core.train.TrainingDivergedException",
            "org.apache.hadoop.security.AccessControlException",
            "org.apache.hadoop.fs.ChecksumException");

    private Failures() {
    }

    /**
     * Whether the same input would fail the same way again: a {@link DitUserError}, a rejected argument or config
     * field ({@link IllegalArgumentException}), malformed data or weights, a diverged run, a missing file or a
     * denied permission, anywhere in the cause chain. Network and store errors are not: they may pass.
     */
    public static boolean isDeterministic(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof DitUserError || c instanceof IllegalArgumentException || c instanceof FileNotFoundException
                    || c instanceof NoSuchFileException || c instanceof AccessDeniedException
                    || isNamed(c.getClass(), DETERMINISTIC_NAMES)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isNamed(Class<?> k, String names) {
        for (Class<?> c = k; c != null; c = c.getSuperclass()) {
            if (("|" + names + "|").contains("|" + c.getName() + "|")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The message to show for {@code t}: the outermost message written by this project (it names the file, field
     * or rank), else that of the root cause with its class; first line only, so no trace or dump follows.
     */
    public static String message(Throwable t) {
        Throwable root = t;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            boolean ours = c.getClass().getName().startsWith("dev.ditspark.")
                    || c instanceof IllegalArgumentException || c instanceof IllegalStateException
                    || c instanceof UncheckedIOException;
            if (ours && c.getMessage() != null && !c.getMessage().isBlank()) {
                return firstLine(c.getMessage());
            }
            root = c;
        }
        return firstLine(root.getMessage() == null ? root.getClass().getName()
                : root.getClass().getSimpleName() + ": " + root.getMessage());
    }

    /** The first line of {@code s}, without a trailing stack trace or multi-line dump. */
    public static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
