package dev.ditspark.core.train;

import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A run's metrics history, {@code metrics.jsonl} in the run directory (checkpoint.uri): one {@link MetricsRecord}
 * per line, in step order, written by rank 0 through the Hadoop FileSystem API.
 *
 * <p>Where the file system can append (file://, hdfs://) each line is appended as it is logged. Object stores
 * (s3a://) cannot append: there the history is kept in memory and the whole file is rewritten at each logged
 * line (one PUT of the history, which appears whole or not at all). Opening for a run cuts the history back to
 * the step the run starts from (0 for a new run, the checkpoint's step for a resume), so after a crash and a
 * resume no step appears twice: lines logged after the last checkpoint are dropped and logged again.
 */
public final class MetricsHistory {
    private static final Logger LOG = LogManager.getLogger(MetricsHistory.class);
    public static final String FILE_NAME = "metrics.jsonl";

    private final FileSystem fs;
    private final Path file;
    private final boolean append;
    /** Every record of the run so far (the plots draw them; without append the file is rewritten from them). */
    private final List<MetricsRecord> records;

    private MetricsHistory(FileSystem fs, Path file, boolean append, List<MetricsRecord> records) {
        this.fs = fs;
        this.file = file;
        this.append = append;
        this.records = records;
    }

    /**
     * Opens the history of the run directory {@code runDir} for a run starting at {@code fromStep}: lines of later
     * steps are removed (the file is rewritten once if there are any).
     *
     * @throws UncheckedIOException the directory cannot be read or written; the message names the file
     */
    public static MetricsHistory open(String runDir, Configuration conf, long fromStep) {
        Path file = new Path(runDir, FILE_NAME);
        try {
            FileSystem fs = file.getFileSystem(conf);
            if (fs instanceof LocalFileSystem local) {
                fs = local.getRaw(); // the checksummed local file system cannot append; its raw one can (no .crc)
            }
            boolean append = fs.hasPathCapability(file.getParent(), CommonPathCapabilities.FS_APPEND);
            List<MetricsRecord> kept = new ArrayList<>();
            boolean cut = false;
            for (String line : readLines(fs, file)) {
                MetricsRecord r = parseOrNull(line);
                if (r != null && r.step() <= fromStep) {
                    kept.add(r);
                } else {
                    cut = true;
                }
            }
            if (cut) {
                LOG.info("{}: history cut back to step {} ({} lines kept)", file, fromStep, kept.size());
            }
            MetricsHistory h = new MetricsHistory(fs, file, append, kept);
            if (cut || !fs.exists(file)) {
                h.rewrite();
            }
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Adds one line. A write that fails is logged and skipped: the history never stops training. */
    public void append(MetricsRecord r) {
        records.add(r);
        try {
            if (append) {
                try (FSDataOutputStream out = fs.append(file)) {
                    out.write((r.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
                }
            } else {
                rewrite();
            }
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("{}: cannot write the metrics of step {}: {}", file, r.step(), e.getMessage());
        }
    }

    /** Whether lines are appended (else the file is rewritten whole). */
    public boolean appends() {
        return append;
    }

    public Path file() {
        return file;
    }

    /** The records of this run so far (those kept from before the starting step included), in step order. */
    public List<MetricsRecord> records() {
        return java.util.Collections.unmodifiableList(records);
    }

    private void rewrite() throws IOException {
        StringBuilder sb = new StringBuilder();
        records.forEach(r -> sb.append(r.toJson()).append('\n'));
        try (OutputStream out = fs.create(file, true)) {
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Every record of the history of {@code runDir}, in file order; a line that is not a metrics record (a torn
     * last line) is skipped with a warning.
     *
     * @throws FileNotFoundException there is no metrics.jsonl in runDir
     */
    public static List<MetricsRecord> read(String runDir, Configuration conf) throws IOException {
        Path file = new Path(runDir, FILE_NAME);
        FileSystem fs = file.getFileSystem(conf);
        if (fs instanceof LocalFileSystem local) {
            fs = local.getRaw(); // as written: no .crc
        }
        if (!fs.exists(file)) {
            throw new FileNotFoundException(file + ": no such file (is " + runDir + " a run directory, checkpoint.uri?)");
        }
        List<MetricsRecord> out = new ArrayList<>();
        for (String line : readLines(fs, file)) {
            MetricsRecord r = parseOrNull(line);
            if (r != null) {
                out.add(r);
            } else if (!line.isBlank()) {
                LOG.warn("{}: skipped a line that is not a metrics record", file);
            }
        }
        return out;
    }

    private static List<String> readLines(FileSystem fs, Path file) throws IOException {
        List<String> out = new ArrayList<>();
        if (!fs.exists(file)) {
            return out;
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                if (!l.isBlank()) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    private static MetricsRecord parseOrNull(String line) {
        try {
            return MetricsRecord.parse(line);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Heap in use by this JVM, bytes. */
    public static long heapUsedBytes() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** This process's resident set size (VmRSS in /proc/self/status), bytes; -1 where there is no /proc. */
    public static long residentBytes() {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    String[] f = l.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024; // the kernel writes kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
