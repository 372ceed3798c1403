package dev.ditspark.core.data;

/**
 * A latent dataset is incomplete or malformed: no manifest, a manifest field out of range, a shard that is
 * truncated, corrupt or does not match the manifest.
 *
 * <p>Unchecked, as {@code WeightFormatException} is: a bad dataset is not something a caller can fix
 * locally. The message always starts with the file at fault (the manifest or the shard), so a failure
 * deep inside a Spark task still says which file to look at.
 */
public class DatasetFormatException extends RuntimeException {

    private final String file;

    public DatasetFormatException(String file, String detail) {
        this(file, detail, null);
    }

    public DatasetFormatException(String file, String detail, Throwable cause) {
        super(file + ": " + detail, cause);
        this.file = file;
    }

    /** The file (or dataset directory) at fault. */
    public String file() {
        return file;
    }
}
