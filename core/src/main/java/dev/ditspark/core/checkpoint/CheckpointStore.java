package dev.ditspark.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
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
 * last. S3 has no atomic rename, so the marker is the commit: it lists every file with its size, and a
 * directory without a valid marker (a crash mid-write) is invisible and overwritten or pruned later.
 */
public final class CheckpointStore {
    public static final String COMMIT_MARKER = "_COMMITTED";
    public static final String STATE_FILE = "state.json";
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{9})");
    private static final Logger LOG = LogManager.getLogger(CheckpointStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final FileSystem fs;

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

    public static String directoryName(long step) {
        return String.format("step-%09d", step);
    }

    /**
     * Writes the checkpoint of {@code state.step()}: each tensor file, then state.json, then the marker. A
     * leftover uncommitted directory for the same step is replaced.
     */
    public void save(TrainingState state, Map<String, SafetensorsWriter> tensorFiles) {
        Path dir = new Path(root, directoryName(state.step()));
        try {
            if (fs.exists(dir)) {
                if (isCommitted(dir)) {
                    throw new CheckpointException("checkpoint " + dir + " is already committed; refusing to overwrite");
                }
                fs.delete(dir, true);
            }
            fs.mkdirs(dir);
            Map<String, Long> sizes = new LinkedHashMap<>();
            for (Map.Entry<String, SafetensorsWriter> e : tensorFiles.entrySet()) {
                String name = e.getKey() + ".safetensors";
                try (OutputStream out = fs.create(new Path(dir, name), false)) {
                    e.getValue().write(out);
                }
                sizes.put(name, fs.getFileStatus(new Path(dir, name)).getLen());
            }
            byte[] stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
            write(new Path(dir, STATE_FILE), stateJson);
            sizes.put(STATE_FILE, (long) stateJson.length);
            ObjectNode marker = JSON.createObjectNode();
            marker.put("step", state.step());
            marker.set("files", JSON.valueToTree(sizes));
            write(new Path(dir, COMMIT_MARKER), JSON.writeValueAsBytes(marker));
            LOG.info("checkpoint {} committed ({} files)", dir, sizes.size());
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + ": write failed: " + e.getMessage(), e);
        }
    }

    private void write(Path path, byte[] bytes) throws IOException {
        try (FSDataOutputStream out = fs.create(path, true)) {
            out.write(bytes);
        }
    }

    /** Steps with a valid commit marker, oldest first. */
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

    public OptionalLong latestStep() {
        List<Long> steps = committedSteps();
        return steps.isEmpty() ? OptionalLong.empty() : OptionalLong.of(steps.get(steps.size() - 1));
    }

    /** The state.json of a committed checkpoint. */
    public TrainingState readState(long step) {
        Path file = new Path(committedDirectory(step), STATE_FILE);
        try (java.io.InputStream in = fs.open(file)) {
            return JSON.readValue(in, TrainingState.class);
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
        } catch (IOException e) {
            throw new CheckpointException("checkpoint file " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Deletes all but the newest {@code keep} committed checkpoints, and uncommitted leftovers older than them. */
    public void prune(int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep_last: must be at least 1, got " + keep);
        }
        List<Long> steps = committedSteps();
        long oldestKept = steps.size() > keep ? steps.get(steps.size() - keep) : steps.isEmpty() ? -1 : steps.get(0);
        for (FileStatus s : listStepDirectories()) {
            long step = stepOf(s.getPath());
            if (step < oldestKept || (!isCommitted(s.getPath()) && !steps.isEmpty() && step < steps.get(steps.size() - 1))) {
                try {
                    fs.delete(s.getPath(), true);
                    LOG.info("pruned checkpoint {}", s.getPath());
                } catch (IOException e) {
                    LOG.warn("could not prune {}: {}", s.getPath(), e.getMessage());
                }
            }
        }
    }

    private Path committedDirectory(long step) {
        Path dir = new Path(root, directoryName(step));
        if (!isCommitted(dir)) {
            throw new CheckpointException("checkpoint " + dir + " is missing or was never committed");
        }
        return dir;
    }

    /** The marker exists and every file it lists is there with its recorded size. */
    private boolean isCommitted(Path dir) {
        Path marker = new Path(dir, COMMIT_MARKER);
        try (java.io.InputStream in = fs.open(marker)) {
            JsonNode m = JSON.readTree(in);
            var it = m.get("files").fields();
            while (it.hasNext()) {
                var e = it.next();
                Path f = new Path(dir, e.getKey());
                if (!fs.exists(f) || fs.getFileStatus(f).getLen() != e.getValue().asLong()) {
                    LOG.warn("checkpoint {} is damaged: {} is missing or has the wrong size", dir, e.getKey());
                    return false;
                }
            }
            return true;
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            LOG.warn("checkpoint {} has an unreadable commit marker: {}", dir, e.getMessage());
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
}
