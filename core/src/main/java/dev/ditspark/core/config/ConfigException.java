package dev.ditspark.core.config;

/** A run configuration is invalid; the message starts with the field's dotted path (e.g. {@code train.global_batch}). */
public final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw new ConfigException(field + ": " + message);
        }
    }

    static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
