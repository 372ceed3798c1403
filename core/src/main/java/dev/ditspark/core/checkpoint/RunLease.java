package dev.ditspark.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One {@code dit train} at a time per run directory: a lease file {@code _LEASE} in {@code checkpoint.uri}, on
 * any Hadoop FileSystem. It is created with {@code overwrite=false} (atomic on HDFS; on stores where create is
 * check-then-write — the local disk, S3 — the holder reads its token back, so of two racing creators only the
 * last writer keeps it) and holds the owner's host, pid, start time and a heartbeat that a daemon thread renews
 * every {@code dit.lease.interval.ms} (default 30 s). A lease is stale, and taken over with a warning, when its
 * heartbeat is older than {@value #STALE_INTERVALS} intervals, or its owner ran on this host and that process is
 * gone (kill -9, a crash). Clocks of different hosts are compared, so they should agree within minutes.
 */
public final class RunLease implements AutoCloseable {
    public static final String FILE = "_LEASE";
    public static final String INTERVAL_KEY = "dit.lease.interval.ms";
    static final int STALE_INTERVALS = 4;
    private static final Logger LOG = LogManager.getLogger(RunLease.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final ObjectNode holder;
    private final ScheduledExecutorService heartbeat;
    private volatile String lostTo;

    private RunLease(FileSystem fs, Path file, ObjectNode holder, long intervalMs) {
        this.fs = fs;
        this.file = file;
        this.holder = holder;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dit-lease-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleWithFixedDelay(this::renew, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes the lease of the run directory {@code store}, or takes over a stale one.
     *
     * @throws CheckpointException naming the other run's host, pid and start time when it is held
     */
    public static RunLease acquire(CheckpointStore store, Configuration conf) {
        FileSystem fs = store.fileSystem();
        Path file = new Path(store.root(), FILE);
        long interval = conf.getLong(INTERVAL_KEY, 30_000);
        ObjectNode me = JSON.createObjectNode();
        me.put("host", hostName());
        me.put("pid", ProcessHandle.current().pid());
        me.put("started", Instant.now().toString());
        me.put("interval_ms", interval);
        me.put("token", UUID.randomUUID().toString());
        try {
            fs.mkdirs(store.root());
            for (int attempt = 0; attempt < 2; attempt++) {
                if (tryCreate(fs, file, me)) {
                    return new RunLease(fs, file, me, interval);
                }
                JsonNode other = read(fs, file);
                if (other == null) { // mid-write by its creator, or gone since: look once more
                    Thread.sleep(500);
                    other = read(fs, file);
                }
                String stale = other == null ? "its lease file is empty or unreadable" : staleness(other);
                if (stale == null) {
                    throw new CheckpointException("checkpoint.uri " + store.uri() + " is in use by another dit train ("
                            + describe(other) + "); wait for it to end or stop it, or set another checkpoint.uri. A run that "
                            + "died leaves its lease (" + FILE + ") stale and the next run takes it over");
                }
                LOG.warn("checkpoint.uri {}: taking over the lease of a run that is gone ({}: {})", store.uri(),
                        other == null ? "unknown" : describe(other), stale);
                fs.delete(file, false);
            }
            JsonNode other = read(fs, file);
            throw new CheckpointException("checkpoint.uri " + store.uri() + " was just taken by another dit train ("
                    + (other == null ? "unknown" : describe(other)) + "); set another checkpoint.uri");
        } catch (IOException e) {
            throw new CheckpointException("checkpoint store " + store.uri() + ": cannot write its lease " + FILE + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CheckpointException("checkpoint store " + store.uri() + ": interrupted while taking its lease", e);
        }
    }

    private static boolean tryCreate(FileSystem fs, Path file, ObjectNode me) throws IOException {
        if (fs.exists(file)) {
            return false;
        }
        me.put("heartbeat", Instant.now().toString());
        try (OutputStream out = fs.create(file, false)) {
            out.write(JSON.writeValueAsBytes(me));
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            if (fs.exists(file) && !isOurs(read(fs, file), me)) {
                return false; // HDFS: the other creator holds the file open ("already being created")
            }
            throw e;
        }
        return isOurs(read(fs, file), me);
    }

    private static boolean isOurs(JsonNode lease, JsonNode me) {
        return lease != null && me.get("token").asText().equals(lease.path("token").asText());
    }

    private static JsonNode read(FileSystem fs, Path file) {
        try (InputStream in = fs.open(file)) {
            JsonNode n = JSON.readTree(in);
            return n != null && n.has("token") ? n : null;
        } catch (FileNotFoundException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Null while the holder is alive, else why it is not. */
    static String staleness(JsonNode lease) {
        long interval = lease.path("interval_ms").asLong(30_000);
        Instant beat = Instant.parse(lease.path("heartbeat").asText(lease.path("started").asText()));
        long ageMs = Instant.now().toEpochMilli() - beat.toEpochMilli();
        if (lease.path("host").asText().equals(hostName())) {
            long pid = lease.path("pid").asLong();
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                return "process " + pid + " on this host has ended";
            }
        }
        if (ageMs > STALE_INTERVALS * interval) {
            return "no heartbeat for " + ageMs / 1000 + " s";
        }
        return null;
    }

    private static String describe(JsonNode lease) {
        return "host " + lease.path("host").asText() + ", pid " + lease.path("pid").asText() + ", started "
                + lease.path("started").asText() + ", last heartbeat " + lease.path("heartbeat").asText();
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Null while this process holds the lease; else who took it over (logged as an error; this run should stop). */
    public String lostTo() {
        return lostTo;
    }

    private synchronized void renew() {
        if (lostTo != null) {
            return;
        }
        try {
            JsonNode now = read(fs, file);
            if (now == null && fs.exists(file)) {
                return; // being rewritten by someone: look again at the next beat rather than overwrite it
            }
            if (now != null && !isOurs(now, holder)) {
                lostTo = describe(now);
                LOG.error("the lease {} was taken over by another dit train ({}) after this one missed its heartbeats; two runs "
                        + "now write this directory: stop one of them", file, lostTo);
                return;
            }
            holder.put("heartbeat", Instant.now().toString());
            try (OutputStream out = fs.create(file, true)) {
                out.write(JSON.writeValueAsBytes(holder));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not renew the lease {}: {}", file, e.getMessage());
        }
    }

    /** Stops the heartbeat and deletes the lease if it is still this process's. */
    @Override
    public synchronized void close() {
        heartbeat.shutdownNow();
        if (lostTo == null) {
            try {
                if (isOurs(read(fs, file), holder)) {
                    fs.delete(file, false);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("could not release the lease {}: {}", file, e.getMessage());
            }
        }
    }
}
