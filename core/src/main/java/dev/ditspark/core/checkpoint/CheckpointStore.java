package dev.ditspark.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import java.io.FileNotFoundException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Where a run's checkpoints live, on any Hadoop FileSystem ({@code file://}, {@code hdfs://}, {@code s3a://}),
 * so the trainer never branches on the scheme (the idea of Horovod's Store).
 *
 * <p>Layout: one directory per step, {@code step-000001000/}, holding tensor files ({@code model.safetensors},
 * {@code ema.safetensors}, {@code optimizer.safetensors}), {@code state.json}, and {@code _COMMITTED} written
 * last. S3 has no atomic rename, so the marker is the commit: it lists every file with its size and CRC32C
 * and the id of the run that wrote it. A directory without a valid marker (a crash mid-write) is invisible and
 * overwritten or pruned later; a file whose size differs makes its checkpoint invisible at once, and one whose
 * CRC32C differs (a flipped byte; S3 and copies that skip Hadoop's hidden {@code .crc} files have no other
 * check) is found by {@link #latestIntactStep()} before a resume or export, which then falls back to the
 * previous checkpoint. Pruning only ever deletes checkpoints of this store's run ({@link #claimRun}).
 */
public final class CheckpointStore {
    public static final String COMMIT_MARKER = "_COMMITTED";
    public static final String STATE_FILE = "state.json";
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{9})");
    private static final Logger LOG = LogManager.getLogger(CheckpointStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int READ_CHUNK = 1 << 20;

    private final Path root;
    private final FileSystem fs;
    /** The run whose checkpoints this store writes and may prune; null: unlabelled (tests, tools). */
    private String runId;
    /** Checkpoints without a run id (written before run ids existed) belong to this run: it resumed one. */
    private boolean ownsUnlabelled;

    private CheckpointStore(Path root, FileSystem fs) {
        this.root = root;
        this.fs = fs;
    }

    /** Opens (without creating anything yet) the store at {@code uri}; a bare path means the local disk. */
    public static CheckpointStore open(String uri, Configuration conf) {
        try {
            Path root = new Path(uri);
            FileSystem fs = root.getFileSystem(conf);
            return new CheckpointStore(fs.makeQualified(root), fs);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException("checkpoint store " + uri + ": cannot open its file system: " + e.getMessage(), e);
        }
    }

    public URI uri() {
        return root.toUri();
    }

    FileSystem fileSystem() {
        return fs;
    }

    Path root() {
        return root;
    }

    /** Where the checkpoint of {@code step} lives: {@code URI/step-000001000}. */
    public String location(long step) {
        return new Path(root, directoryName(step)).toString();
    }

    public static String directoryName(long step) {
        return String.format("step-%09d", step);
    }

    /** A fresh run id (recorded in every marker the run writes). */
    public static String newRunId() {
        return UUID.randomUUID().toString();
    }

    /**
     * From now on this store writes checkpoints as run {@code id} and prunes only that run's checkpoints (and
     * unlabelled ones when {@code ownsUnlabelled}: the run resumed a checkpoint written before run ids existed).
     */
    public void claimRun(String id, boolean ownsUnlabelled) {
        this.runId = Objects.requireNonNull(id);
        this.ownsUnlabelled = ownsUnlabelled;
    }

    public String runId() {
        return runId;
    }

    /** The run id recorded in a committed checkpoint's marker, or null (written before run ids existed). */
    public String runIdOf(long step) {
        JsonNode m = marker(committedDirectory(step));
        JsonNode id = m == null ? null : m.get("run_id");
        return id == null || id.isNull() ? null : id.asText();
    }

    /**
     * Writes the checkpoint of {@code state.step()}: each tensor file, then state.json, then the marker. A
     * leftover uncommitted directory for the same step is replaced, and so is a committed one whose checksum
     * no longer matches (it is kept beside, renamed {@code step-N.damaged-TIME}); an intact one is never
     * overwritten.
     *
     * @throws CheckpointException naming the checkpoint and the store when anything fails (a full disk
     *     included); the partial directory is removed and the previous checkpoint stays the newest
     */
    public void save(TrainingState state, Map<String, SafetensorsWriter> tensorFiles) {
        Path dir = new Path(root, directoryName(state.step()));
        String current = "";
        try {
            if (fs.exists(dir)) {
                if (isCommitted(dir)) {
                    String damage = verify(dir);
                    if (damage == null) {
                        throw new CheckpointException("checkpoint " + dir + " is already committed; refusing to overwrite");
                    }
                    Path aside = new Path(root, dir.getName() + ".damaged-" + timestamp());
                    LOG.warn("checkpoint {} is damaged ({}); keeping it as {} and writing this step anew", dir, damage, aside);
                    fs.rename(dir, aside);
                } else {
                    fs.delete(dir, true);
                }
            }
            fs.mkdirs(dir);
            ObjectNode files = JSON.createObjectNode();
            for (Map.Entry<String, SafetensorsWriter> e : tensorFiles.entrySet()) {
                current = e.getKey() + ".safetensors";
                CrcCountingStream out = new CrcCountingStream(fs.create(new Path(dir, current), false));
                try (out) {
                    e.getValue().write(out);
                }
                files.set(current, out.entry());
            }
            current = STATE_FILE;
            byte[] stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
            files.set(STATE_FILE, write(new Path(dir, STATE_FILE), stateJson));
            current = COMMIT_MARKER;
            ObjectNode marker = JSON.createObjectNode();
            marker.put("step", state.step());
            marker.put("run_id", runId);
            marker.put("checksum", "crc32c");
            marker.set("files", files);
            write(new Path(dir, COMMIT_MARKER), JSON.writeValueAsBytes(marker));
            LOG.info("checkpoint {} committed ({} files)", dir, files.size());
        } catch (IOException | UncheckedIOException | FSError e) {
            // FSError: Hadoop's local file system turns the write's IOException (a full disk) into an Error.
            throw writeFailed(dir, current, e);
        }
    }

    private CheckpointException writeFailed(Path dir, String file, Throwable e) {
        try {
            fs.delete(dir, true); // frees the space a partial checkpoint took; it was never committed
        } catch (IOException | RuntimeException | FSError ignored) {
            // the leftover is invisible without its marker and pruned later
        }
        String previous;
        try {
            List<Long> steps = committedSteps();
            previous = steps.isEmpty() ? "there is no earlier checkpoint"
                    : directoryName(steps.get(steps.size() - 1)) + " stays the newest checkpoint";
        } catch (RuntimeException ex) {
            previous = "the earlier checkpoints are untouched";
        }
        String cause = rootMessage(e);
        String what = cause.contains("No space left on device") || cause.contains("Disk quota exceeded")
                ? "the store " + root + " is full (" + cause + ") while writing " + file
                : "writing " + file + " to the store " + root + " failed: " + cause;
        return new CheckpointException("checkpoint " + dir.getName() + ": " + what + "; nothing of it was committed and "
                + previous + ". Free space there or set checkpoint.uri elsewhere, then run the same command to resume", e);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        return m;
    }

    private static String timestamp() {
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    private JsonNode write(Path path, byte[] bytes) throws IOException {
        CrcCountingStream out = new CrcCountingStream(fs.create(path, true));
        try (out) {
            out.write(bytes);
        }
        return out.entry();
    }

    /** Steps with a valid commit marker (every listed file present with its size), oldest first. */
    public List<Long> committedSteps() {
        List<Long> steps = new ArrayList<>();
        for (FileStatus s : listStepDirectories()) {
            if (isCommitted(s.getPath())) {
                steps.add(stepOf(s.getPath()));
            }
        }
        Collections.sort(steps);
        return steps;
    }

    /** The newest committed step, by markers and sizes only (cheap); see {@link #latestIntactStep()}. */
    public OptionalLong latestStep() {
        List<Long> steps = committedSteps();
        return steps.isEmpty() ? OptionalLong.empty() : OptionalLong.of(steps.get(steps.size() - 1));
    }

    /**
     * The newest committed step whose files all match their recorded CRC32C (reads every file of it): a damaged
     * checkpoint is skipped with a warning naming the file, and the previous one is tried.
     */
    public OptionalLong latestIntactStep() {
        List<Long> steps = committedSteps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            String damage = verify(new Path(root, directoryName(steps.get(i))));
            if (damage == null) {
                return OptionalLong.of(steps.get(i));
            }
            LOG.warn("checkpoint {} is damaged: {}; {}", new Path(root, directoryName(steps.get(i))), damage,
                    i > 0 ? "falling back to " + directoryName(steps.get(i - 1)) : "no earlier checkpoint to fall back to");
        }
        return OptionalLong.empty();
    }

    /**
     * Checks every file of a committed checkpoint against its marker's CRC32C.
     *
     * @throws CheckpointException naming the file when it does not match
     */
    public void verify(long step) {
        Path dir = committedDirectory(step);
        String damage = verify(dir);
        if (damage != null) {
            throw new CheckpointException("checkpoint " + dir + " is damaged: " + damage);
        }
    }

    /** Null when intact, else what is wrong ("checksum mismatch in FILE (...)"). */
    private String verify(Path dir) {
        JsonNode m = marker(dir);
        if (m == null) {
            return "its commit marker is missing or unreadable";
        }
        var it = m.get("files").fields();
        while (it.hasNext()) {
            var e = it.next();
            JsonNode expected = e.getValue().get("crc32c");
            if (expected == null) {
                continue; // a marker from before checksums: sizes were checked
            }
            Path f = new Path(dir, e.getKey());
            CRC32C crc = new CRC32C();
            byte[] buf = new byte[READ_CHUNK];
            try (InputStream in = fs.open(f)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    crc.update(buf, 0, n);
                }
            } catch (ChecksumException ex) {
                return mismatch(f);
            } catch (IOException ex) {
                return "cannot read " + e.getKey() + ": " + ex.getMessage();
            }
            if (!hex(crc.getValue()).equals(expected.asText())) {
                return mismatch(f);
            }
        }
        return null;
    }

    private static String mismatch(Path file) {
        return "checksum mismatch in " + file + " (the file was altered or corrupted)";
    }

    /** The state.json of a committed checkpoint. */
    public TrainingState readState(long step) {
        Path file = new Path(committedDirectory(step), STATE_FILE);
        try (InputStream in = fs.open(file)) {
            return JSON.readValue(in, TrainingState.class);
        } catch (ChecksumException e) {
            throw new CheckpointException(mismatch(file), e);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint file " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Opens one tensor file ({@code model}, {@code ema}, {@code optimizer}) of a committed checkpoint. */
    public SafetensorsFile openTensors(long step, String name) {
        Path file = new Path(committedDirectory(step), name + ".safetensors");
        try {
            return SafetensorsFile.open(new HadoopSource(fs, file), file.toString());
        } catch (FileNotFoundException e) {
            throw new CheckpointException("checkpoint " + committedDirectory(step) + " has no " + name + ".safetensors");
        } catch (ChecksumException e) {
            throw new CheckpointException(mismatch(file), e);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint file " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Deletes all but the newest {@code keep} committed checkpoints of this run, and uncommitted leftovers older
     * than its newest. Checkpoints another run wrote are never touched.
     */
    public void prune(int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep_last: must be at least 1, got " + keep);
        }
        List<Long> steps = new ArrayList<>();
        for (long s : committedSteps()) {
            if (owned(s)) {
                steps.add(s);
            }
        }
        long oldestKept = steps.size() > keep ? steps.get(steps.size() - keep) : steps.isEmpty() ? -1 : steps.get(0);
        for (FileStatus s : listStepDirectories()) {
            long step = stepOf(s.getPath());
            boolean committed = isCommitted(s.getPath());
            boolean ours = committed ? owned(step) : true;
            if (ours && (step < oldestKept || (!committed && !steps.isEmpty() && step < steps.get(steps.size() - 1)))) {
                try {
                    fs.delete(s.getPath(), true);
                    LOG.info("pruned checkpoint {}", s.getPath());
                } catch (IOException e) {
                    LOG.warn("could not prune {}: {}", s.getPath(), e.getMessage());
                }
            }
        }
    }

    private boolean owned(long step) {
        String id = runIdOf(step);
        return id == null ? (runId == null || ownsUnlabelled) : id.equals(runId);
    }

    /**
     * Moves every step directory (another run's checkpoints) into a new sibling directory
     * {@code NAME.moved-TIME} and returns its URI; nothing is deleted.
     */
    public URI moveAside() {
        Path aside = new Path(root.getParent(), root.getName() + ".moved-" + timestamp());
        try {
            fs.mkdirs(aside);
            for (FileStatus s : listStepDirectories()) {
                if (!fs.rename(s.getPath(), new Path(aside, s.getPath().getName()))) {
                    throw new IOException("rename of " + s.getPath() + " to " + aside + " failed");
                }
            }
            // The run's metrics history, charts and grids go with it (a new run would cut the history back to step 0
            // and overwrite the grids).
            for (String name : new String[] {"metrics.jsonl", "plots", "samples"}) {
                Path p = new Path(root, name);
                if (fs.exists(p) && !fs.rename(p, new Path(aside, name))) {
                    throw new IOException("rename of " + p + " to " + aside + " failed");
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("checkpoint store " + root + ": cannot move the previous run aside to " + aside
                    + ": " + e.getMessage(), e);
        }
        LOG.warn("moved the previous run's checkpoints from {} to {}", root, aside);
        return aside.toUri();
    }

    /** The names of the committed step directories, for messages ("step-000000010, step-000000012"). */
    public String describeSteps(List<Long> steps) {
        return steps.stream().map(CheckpointStore::directoryName).collect(Collectors.joining(", "));
    }

    private Path committedDirectory(long step) {
        Path dir = new Path(root, directoryName(step));
        if (!isCommitted(dir)) {
            throw new CheckpointException("checkpoint " + dir + " is missing or was never committed");
        }
        return dir;
    }

    /** The parsed marker, or null when absent or unreadable (logged). */
    private JsonNode marker(Path dir) {
        Path marker = new Path(dir, COMMIT_MARKER);
        try (InputStream in = fs.open(marker)) {
            JsonNode m = JSON.readTree(in);
            return m != null && m.has("files") ? m : null;
        } catch (FileNotFoundException e) {
            return null;
        } catch (ChecksumException e) {
            LOG.warn("checkpoint {}: {}", dir, mismatch(marker));
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.warn("checkpoint {} has an unreadable commit marker: {}", dir, e.getMessage());
            return null;
        }
    }

    /** The marker exists and every file it lists is there with its recorded size. */
    private boolean isCommitted(Path dir) {
        JsonNode m = marker(dir);
        if (m == null) {
            return false;
        }
        try {
            var it = m.get("files").fields();
            while (it.hasNext()) {
                var e = it.next();
                Path f = new Path(dir, e.getKey());
                long size = e.getValue().isObject() ? e.getValue().get("size").asLong() : e.getValue().asLong();
                if (!fs.exists(f) || fs.getFileStatus(f).getLen() != size) {
                    LOG.warn("checkpoint {} is damaged: {} is missing or has the wrong size", dir, e.getKey());
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("checkpoint {} cannot be checked: {}", dir, e.getMessage());
            return false;
        }
    }

    private List<FileStatus> listStepDirectories() {
        try {
            if (!fs.exists(root)) {
                return List.of();
            }
            List<FileStatus> out = new ArrayList<>();
            for (FileStatus s : fs.listStatus(root)) {
                if (s.isDirectory() && STEP_DIR.matcher(s.getPath().getName()).matches()) {
                    out.add(s);
                }
            }
            return out;
        } catch (IOException e) {
            throw new CheckpointException("checkpoint store " + root + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static long stepOf(Path dir) {
        Matcher m = STEP_DIR.matcher(dir.getName());
        if (!m.matches()) {
            throw new IllegalStateException(dir.toString());
        }
        return Long.parseLong(m.group(1));
    }

    private static String hex(long crc) {
        return String.format("%08x", crc);
    }

    /** Counts and checksums what goes through, for the marker: {"size": N, "crc32c": "hex"}. */
    private static final class CrcCountingStream extends FilterOutputStream {
        private final CRC32C crc = new CRC32C();
        private long size;

        CrcCountingStream(FSDataOutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            crc.update(b);
            size++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            crc.update(b, off, len);
            size += len;
        }

        JsonNode entry() {
            ObjectNode n = JSON.createObjectNode();
            n.put("size", size);
            n.put("crc32c", hex(crc.getValue()));
            return n;
        }
    }
}
