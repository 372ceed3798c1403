package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.checkpoint.CheckpointException;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data and checkpoints on a real HDFS (NameNode + DataNode in this JVM), trained by the Spark job. */
class HdfsTrainingTest {

    @TempDir
    static Path dir;

    static MiniDFSCluster hdfs;
    static JavaSparkContext spark;
    static String root;

    @BeforeAll
    static void start() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("hdfs").toString());
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
        root = "hdfs://127.0.0.1:" + hdfs.getNameNodePort();
        FashionMnist.installed().importTo(root + "/data/fmnist", FashionMnist.Split.TRAIN, 16, hdfs.getConfiguration(0));
        spark = new JavaSparkContext(TinyRun.localSpark("local[2]"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    @Test
    void twoWorkersTrainFromHdfsAndCheckpointToIt() throws Exception {
        String ckpt = root + "/runs/tiny";
        RunConfig run = TinyRun.config(dir, root + "/data/fmnist", ckpt, List.of("train.workers=2", "sample.every=2",
                "sample.steps=2", "sample.grid_per_label=1"));
        List<WorkerResult> results = DistributedTraining.run(spark, run);
        assertEquals(4, results.get(1).finalStep());

        Configuration conf = hdfs.getConfiguration(0);
        CheckpointStore store = CheckpointStore.open(ckpt, conf);
        assertEquals(List.of(2L, 4L), store.committedSteps());
        FileSystem fs = FileSystem.get(new java.net.URI(root), conf);
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path(ckpt + "/step-000000004/" + CheckpointStore.COMMIT_MARKER)));
        assertEquals(4, store.readState(4).step());
        // Rank 0's grids of the EMA weights on HDFS: one column, a row per class (and no temporaries beside them).
        for (String grid : List.of("step-000000002.png", "step-000000004.png")) {
            try (var in = fs.open(new org.apache.hadoop.fs.Path(ckpt + "/samples/" + grid))) {
                java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(in);
                assertEquals(2 + 28 + 2, png.getWidth(), grid);
                assertEquals(2 + 10 * (28 + 2), png.getHeight(), grid);
            }
        }
        assertEquals(2, fs.listStatus(new org.apache.hadoop.fs.Path(ckpt + "/samples")).length);

        // A second submission with a larger max_steps resumes from HDFS rather than starting over.
        RunConfig longer = TinyRun.config(dir, root + "/data/fmnist", ckpt, List.of("train.workers=2", "train.max_steps=6"));
        DistributedTraining.run(spark, longer);
        assertEquals(List.of(2L, 4L, 6L), store.committedSteps());
        assertEquals(6, store.readState(6).step());
        assertEquals(16 * 0 + 6L * 8, store.readState(6).imagesSeen());
        // metrics.jsonl on HDFS (appended line by line): one line per step (log_every 1), none twice after the resume.
        List<dev.ditspark.core.train.MetricsRecord> history = dev.ditspark.core.train.MetricsHistory.read(ckpt, conf);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), history.stream().map(r -> r.step()).toList());
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path(ckpt + "/plots/loss.png")));
    }

    @Test
    void anUnreachableNameNodeIsNamed() {
        Configuration conf = new Configuration();
        conf.setInt("ipc.client.connect.max.retries", 0); // fail at once instead of after ten 1-second retries
        CheckpointStore store = CheckpointStore.open("hdfs://127.0.0.1:1/runs/x", conf);
        CheckpointException e = assertThrows(CheckpointException.class, store::latestStep);
        assertTrue(e.getMessage().startsWith("checkpoint store hdfs://127.0.0.1:1/runs/x: cannot list: "), e.getMessage());
        assertTrue(e.getMessage().contains("Connection refused"), e.getMessage());
    }

    @Test
    void theRunLeaseHoldsOnHdfsAndADeadOwnersIsTakenOver() throws Exception {
        // Issue 10 #2: create(overwrite=false) is atomic on HDFS.
        Configuration conf = new Configuration(hdfs.getConfiguration(0));
        conf.setLong(dev.ditspark.core.checkpoint.RunLease.INTERVAL_KEY, 1000);
        CheckpointStore store = CheckpointStore.open(root + "/runs/leased", conf);
        try (var first = dev.ditspark.core.checkpoint.RunLease.acquire(store, conf)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> dev.ditspark.core.checkpoint.RunLease.acquire(store, conf));
            assertTrue(e.getMessage().contains("is in use by another dit train (host "), e.getMessage());
            assertTrue(e.getMessage().contains(", pid " + ProcessHandle.current().pid() + ", started "), e.getMessage());
        }
        // A lease whose owner on this host has ended (kill -9 leaves it behind) is taken over.
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        FileSystem fs = FileSystem.get(new java.net.URI(root), conf);
        try (var out = fs.create(new org.apache.hadoop.fs.Path(root + "/runs/leased/_LEASE"), true)) {
            out.write(("{\"host\":\"" + java.net.InetAddress.getLocalHost().getHostName() + "\",\"pid\":" + dead.pid()
                    + ",\"started\":\"2026-01-01T00:00:00Z\",\"heartbeat\":\"" + java.time.Instant.now()
                    + "\",\"interval_ms\":1000,\"token\":\"dead\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        dev.ditspark.core.checkpoint.RunLease.acquire(store, conf).close();
        assertTrue(!fs.exists(new org.apache.hadoop.fs.Path(root + "/runs/leased/_LEASE")), "released on close");
    }

    @Test
    void aSecondJobOnTheSameRunIsRefusedWhileTheFirstHoldsIt() throws Exception {
        String ckpt = root + "/runs/busy";
        Configuration conf = hdfs.getConfiguration(0);
        try (var held = dev.ditspark.core.checkpoint.RunLease.acquire(CheckpointStore.open(ckpt, conf), conf)) {
            RunConfig run = TinyRun.config(dir, root + "/data/fmnist", ckpt, List.of("train.workers=2"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> DistributedTraining.run(spark, run));
            assertTrue(e.getMessage().startsWith("checkpoint.uri " + ckpt + " is in use by another dit train (host "),
                    e.getMessage());
        }
    }
}
