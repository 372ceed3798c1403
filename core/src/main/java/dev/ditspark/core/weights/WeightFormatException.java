package dev.ditspark.core.weights;

/**
 * A weights file is malformed, or does not hold what the caller asked for.
 *
 * <p>Unchecked because a bad file is not something a caller can recover from locally; the message
 * always starts with the file's display name and, where one tensor is at fault, names its key, so
 * a failure deep inside a Spark task still says which file to look at.
 */
public class WeightFormatException extends RuntimeException {

    private final String file;
    private final String key;

    /** An error about the file as a whole (header length, JSON syntax, trailing bytes...). */
    public WeightFormatException(String file, String detail) {
        this(file, null, detail, null);
    }

    /** An error about one tensor (or the {@code __metadata__} entry) of the file. */
    public WeightFormatException(String file, String key, String detail) {
        this(file, key, detail, null);
    }

    public WeightFormatException(String file, String key, String detail, Throwable cause) {
        super(format(file, key, detail), cause);
        this.file = file;
        this.key = key;
    }

    /** The display name of the file at fault. */
    public String file() {
        return file;
    }

    /** The tensor (or metadata) key at fault, or {@code null} when the error is file-wide. */
    public String key() {
        return key;
    }

    private static String format(String file, String key, String detail) {
        if (key == null) {
            return file + ": " + detail;
        }
        // The metadata entry is not a tensor; calling it one would mislead.
        return SafetensorsFile.METADATA_KEY.equals(key)
                ? file + ": " + key + ": " + detail
                : file + ": tensor '" + key + "': " + detail;
    }
}
