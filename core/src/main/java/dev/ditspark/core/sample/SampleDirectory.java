package dev.ditspark.core.sample;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A directory of {@code dit sample} output on any Hadoop FileSystem: a local path (the raw local file system, so
 * no .crc files beside the samples), file://, hdfs:// or s3a://. Files are written under a temporary name and
 * renamed into place, so a reader sees the whole file or none.
 */
public final class SampleDirectory {
    private final FileSystem fs;
    private final Path dir;

    private SampleDirectory(FileSystem fs, Path dir) {
        this.fs = fs;
        this.dir = dir;
    }

    /**
     * {@code location}: a URI with a scheme, or a local path.
     *
     * @throws IOException the file system cannot be reached
     */
    public static SampleDirectory of(String location, Configuration conf) throws IOException {
        Path p = location.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*") ? new Path(URI.create(location))
                : new Path("file", null, java.nio.file.Path.of(location).toAbsolutePath().normalize().toString());
        FileSystem fs = p.getFileSystem(conf);
        if (fs instanceof LocalFileSystem local) {
            fs = local.getRaw();
        }
        return new SampleDirectory(fs, fs.makeQualified(p));
    }

    /** The subdirectory {@code name}. */
    public SampleDirectory resolve(String name) {
        return new SampleDirectory(fs, new Path(dir, name));
    }

    /** Where it is, for messages. */
    public String location() {
        return dir.toString();
    }

    FileSystem fs() {
        return fs;
    }

    Path path() {
        return dir;
    }

    Path file(String name) {
        return new Path(dir, name);
    }

    /** Creates the directory (and its parents). */
    public void create() throws IOException {
        fs.mkdirs(dir);
    }

    public boolean exists(String name) throws IOException {
        return fs.exists(file(name));
    }

    public InputStream open(String name) throws IOException {
        return fs.open(file(name));
    }

    /**
     * Writes {@code name} under a temporary name beside it and renames it into place (replacing an older one).
     *
     * @throws IOException writing or the rename failed (the temporary file is removed)
     */
    public void writeAtomically(String name, SampleImages.Body body) throws IOException {
        Path target = file(name);
        Path tmp = file(name + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(fs.create(tmp, false), 1 << 16)) {
                body.write(out);
            }
            if (fs.exists(target)) {
                fs.delete(target, false);
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("cannot rename " + tmp + " to " + target);
            }
        } finally {
            if (fs.exists(tmp)) {
                fs.delete(tmp, false);
            }
        }
    }
}
