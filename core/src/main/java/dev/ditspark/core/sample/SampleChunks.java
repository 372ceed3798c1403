package dev.ditspark.core.sample;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * The finished chunks of a long sampling request on any Hadoop FileSystem (a local directory, hdfs://, s3a://),
 * kept as it goes so a rerun resumes: {@code DIR/request.json} describes the request (model, step, seed, sampler,
 * guidance, labels, VAE) and {@code DIR/chunk-START-END.npz} holds samples START..END-1 as
 * {@link SampleImages#writeNpz} writes them. Each is written under a temporary name and renamed, so a chunk file is
 * complete or absent; several workers write disjoint chunks of the same directory. A directory holding another
 * request's chunks is emptied first (by the driver, before any worker writes).
 */
public final class SampleChunks {
    public static final String REQUEST = "request.json";
    private static final Pattern CHUNK = Pattern.compile("chunk-(\\d+)-(\\d+)\\.npz");
    private final SampleDirectory dir;

    private SampleChunks(SampleDirectory dir) {
        this.dir = dir;
    }

    /** A local directory. */
    public static SampleChunks open(java.nio.file.Path dir, String request, Consumer<String> log) throws IOException {
        return open(dir.toString(), new Configuration(), request, log);
    }

    /**
     * Opens (creating) the directory {@code location} (a local path or a Hadoop URI) for {@code request}; chunks
     * of a different request there are deleted and {@code log} told so. Run once, on the driver, before the
     * workers {@link #attach} to it.
     *
     * @throws IOException the directory cannot be created or written
     */
    public static SampleChunks open(String location, Configuration conf, String request, Consumer<String> log)
            throws IOException {
        SampleChunks c = attach(location, conf);
        c.dir.create();
        String old = null;
        try (InputStream in = c.dir.open(REQUEST)) {
            old = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (FileNotFoundException e) {
            // a new request
        }
        if (old != null && !old.equals(request)) {
            int n = c.finished().size();
            if (n > 0) {
                log.accept("sample: " + n + " chunks in " + c.location() + " belong to another request (model, seed, "
                        + "sampler or labels differ); sampling afresh");
            }
            c.deleteChunks();
        }
        if (!request.equals(old)) {
            c.dir.writeAtomically(REQUEST, out -> out.write(request.getBytes(StandardCharsets.UTF_8)));
        }
        return c;
    }

    /** The directory {@code location} as a worker sees it (the driver has {@link #open opened} it). */
    public static SampleChunks attach(String location, Configuration conf) throws IOException {
        return new SampleChunks(SampleDirectory.of(location, conf));
    }

    /** Where the chunks are, for messages. */
    public String location() {
        return dir.location();
    }

    /** The file name of samples start..end-1. */
    public static String name(int start, int end) {
        return String.format("chunk-%08d-%08d.npz", start, end);
    }

    /** Whether the chunk of samples start..start+n-1 is finished (present: files are complete or absent). */
    public boolean has(int start, int n) throws IOException {
        return dir.exists(name(start, start + n));
    }

    /** The (start, end) of every finished chunk here, in no particular order. */
    public List<int[]> finished() throws IOException {
        List<int[]> out = new ArrayList<>();
        for (FileStatus s : dir.fs().listStatus(dir.path())) {
            Matcher m = CHUNK.matcher(s.getPath().getName());
            if (m.matches()) {
                out.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
            }
        }
        return out;
    }

    /** Samples start..start+n-1 if that chunk is finished and readable with n samples; an unreadable one is deleted. */
    public Optional<SampleImages> read(int start, int n) throws IOException {
        String name = name(start, start + n);
        if (!dir.exists(name)) {
            return Optional.empty();
        }
        try (InputStream in = dir.open(name)) {
            SampleImages s = SampleImages.readNpz(in, dir.file(name).toString());
            if (s.count() == n) {
                return Optional.of(s);
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: sample it again
        }
        dir.fs().delete(dir.file(name), false);
        return Optional.empty();
    }

    /** Keeps samples start..start+images.count()-1. */
    public void write(int start, SampleImages images) throws IOException {
        dir.writeAtomically(name(start, start + images.count()), images::writeNpz);
    }

    /** Removes the chunks and the directory (once the whole request's output is written). */
    public void delete() throws IOException {
        deleteChunks();
        dir.fs().delete(dir.file(REQUEST), false);
        if (dir.fs().listStatus(dir.path()).length == 0) {
            dir.fs().delete(dir.path(), false);
        }
    }

    private void deleteChunks() throws IOException {
        for (FileStatus s : dir.fs().listStatus(dir.path())) {
            if (s.getPath().getName().matches("chunk-\\d+-\\d+\\.npz(\\..*\\.tmp)?")) {
                dir.fs().delete(s.getPath(), false);
            }
        }
    }
}
