package dev.ditspark.core.data;

import java.io.IOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Publishing a finished file under its final name. Files are written under a temporary name starting with
 * "_" (which Hadoop and Spark list as hidden) and renamed when complete, so a crash never leaves a partial
 * file under a real name. On HDFS and local disks the rename is atomic; on S3A it is a server-side copy of
 * a complete object, which appears all at once, so it is equally safe, only slower.
 */
final class TempFileCommit {
    private TempFileCommit() {
    }

    /** A temporary sibling of {@code target}: same directory, hidden name, unique per writer. */
    static Path temporaryFor(Path target) {
        return new Path(target.getParent(), "_" + target.getName() + "." + java.util.UUID.randomUUID() + ".tmp");
    }

    /** Renames {@code tmp} to {@code target}, replacing any older {@code target} (HDFS rename never overwrites). */
    static void commit(FileSystem fs, Path tmp, Path target) throws IOException {
        if (fs.exists(target) && !fs.delete(target, false)) {
            throw new IOException("cannot replace " + target);
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    /** Best-effort removal of a temporary file after a failure; never masks the original error. */
    static void discard(FileSystem fs, Path tmp, Throwable failure) {
        try {
            fs.delete(tmp, false);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
