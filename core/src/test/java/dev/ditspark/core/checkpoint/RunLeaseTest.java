package dev.ditspark.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One dit train per run directory (issue 10 #2), on the local file system; HdfsTrainingTest runs it on HDFS. */
class RunLeaseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The checks every file system must pass: a held lease refuses, a released one is free, a dead one is taken over. */
    static void leaseBehaves(String uri, Configuration conf, Path localLeaseOrNull) throws Exception {
        conf.setLong(RunLease.INTERVAL_KEY, 1000); // stale after 4 s: safe on a busy machine
        CheckpointStore store = CheckpointStore.open(uri, conf);
        String host = InetAddress.getLocalHost().getHostName();
        try (RunLease first = RunLease.acquire(store, conf)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> RunLease.acquire(store, conf));
            assertTrue(e.getMessage().startsWith("checkpoint.uri " + store.uri() + " is in use by another dit train (host "
                    + host + ", pid " + ProcessHandle.current().pid() + ", started "), e.getMessage());
            assertTrue(e.getMessage().endsWith("wait for it to end or stop it, or set another checkpoint.uri. A run that died "
                    + "leaves its lease (_LEASE) stale and the next run takes it over"), e.getMessage());
            // The heartbeat is renewed while the run lives.
            String before = read(store, conf).get("heartbeat").asText();
            Thread.sleep(2500);
            assertNotEquals(before, read(store, conf).get("heartbeat").asText());
            assertEquals(null, first.lostTo());
        }
        RunLease.acquire(store, conf).close(); // released: free again

        // A lease left by a process of this host that has ended (kill -9) is taken over at once.
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        writeLease(store, conf, host, dead.pid(), Instant.now());
        RunLease.acquire(store, conf).close();
        // One from another host whose heartbeat stopped 4 intervals ago is stale too; a fresh one is not.
        writeLease(store, conf, "elsewhere", 1, Instant.now().minusSeconds(60));
        RunLease.acquire(store, conf).close();
        writeLease(store, conf, "elsewhere", 1, Instant.now());
        CheckpointException e = assertThrows(CheckpointException.class, () -> RunLease.acquire(store, conf));
        assertTrue(e.getMessage().contains("(host elsewhere, pid 1, started 2"), e.getMessage());
    }

    /** The lease file's content; retried while the holder's heartbeat rewrites it. */
    private static JsonNode read(CheckpointStore store, Configuration conf) throws Exception {
        for (int i = 0; ; i++) {
            try (var in = store.fileSystem().open(new org.apache.hadoop.fs.Path(store.root(), RunLease.FILE))) {
                JsonNode n = JSON.readTree(in);
                if (n != null && n.has("heartbeat")) {
                    return n;
                }
            } catch (java.io.IOException e) {
                if (i > 20) {
                    throw e;
                }
            }
            Thread.sleep(50);
        }
    }

    private static void writeLease(CheckpointStore store, Configuration conf, String host, long pid, Instant beat)
            throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("host", host);
        n.put("pid", pid);
        n.put("started", beat.minusSeconds(3600).toString());
        n.put("heartbeat", beat.toString());
        n.put("interval_ms", 1000);
        n.put("token", "someone-else");
        try (var out = store.fileSystem().create(new org.apache.hadoop.fs.Path(store.root(), RunLease.FILE), true)) {
            out.write(JSON.writeValueAsBytes(n));
        }
    }

    @Test
    void onTheLocalFileSystem() throws Exception {
        leaseBehaves(dir.resolve("run").toUri().toString(), new Configuration(), dir.resolve("run"));
    }

    @Test
    void aTakenOverLeaseIsReportedLostAndNotDeletedByItsFormerHolder() throws Exception {
        Configuration conf = new Configuration();
        conf.setLong(RunLease.INTERVAL_KEY, 100);
        CheckpointStore store = CheckpointStore.open(dir.toString(), conf);
        RunLease mine = RunLease.acquire(store, conf);
        writeLease(store, conf, "elsewhere", 7, Instant.now()); // another run took over while this one stalled
        Thread.sleep(1000);
        assertTrue(mine.lostTo() != null && mine.lostTo().startsWith("host elsewhere, pid 7"), mine.lostTo());
        mine.close();
        assertTrue(Files.exists(dir.resolve(RunLease.FILE)));
    }
}
