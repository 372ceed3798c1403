package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.OutputStreamAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.api.java.JavaSparkContext;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints to s3a:// on a real S3 API server (s3proxy, in-memory, on 127.0.0.1). The credentials reach
 * the job through the usual Hadoop keys and must appear in no log line and no checkpoint file.
 */
class S3TrainingTest {
    private static final String ACCESS = "AKIDITSPARKTEST0001";
    private static final String SECRET = "s3cr3t-Never-Logged-4f1b9c";

    @TempDir
    static Path dir;

    static S3Proxy s3;
    static BlobStoreContext blobs;
    static JavaSparkContext spark;
    static String data;

    @BeforeAll
    static void start() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        Properties props = new Properties();
        blobs = ContextBuilder.newBuilder("transient").credentials("local", "local").overrides(props)
                .build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, "dit");
        s3 = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET).build();
        s3.start();
        while (!s3.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
        data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        spark = new JavaSparkContext(TinyRun.localSpark("local[2]"));
        s3a(spark.hadoopConfiguration());
    }

    /** What a user puts in spark-defaults (spark.hadoop.fs.s3a.*) or core-site.xml. */
    static Configuration s3a(Configuration conf) {
        conf.set("fs.s3a.endpoint", "http://127.0.0.1:" + s3.getPort());
        conf.set("fs.s3a.endpoint.region", "us-east-1");
        conf.set("fs.s3a.path.style.access", "true");
        conf.set("fs.s3a.connection.ssl.enabled", "false");
        conf.set("fs.s3a.access.key", ACCESS);
        conf.set("fs.s3a.secret.key", SECRET);
        conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.change.detection.mode", "none");
        conf.setInt("fs.s3a.attempts.maximum", 1);
        conf.setInt("fs.s3a.retry.limit", 1);
        return conf;
    }

    @AfterAll
    static void stop() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        if (spark != null) {
            spark.close();
        }
        if (s3 != null) {
            s3.stop();
        }
        if (blobs != null) {
            blobs.close();
        }
    }

    @Test
    void checkpointsLandOnS3AndNoLogOrFileHoldsTheSecret() throws Exception {
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        LoggerContext ctx = (LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        OutputStreamAppender capture = OutputStreamAppender.newBuilder().setName("capture").setTarget(logs)
                .setLayout(PatternLayout.newBuilder().withPattern("%c %m %ex%n").build()).build();
        capture.start();
        ctx.getConfiguration().getRootLogger().addAppender(capture, org.apache.logging.log4j.Level.ALL, null);
        ctx.getConfiguration().getRootLogger().setLevel(org.apache.logging.log4j.Level.DEBUG);
        ctx.updateLoggers();
        String ckpt = "s3a://dit/runs/tiny";
        try {
            RunConfig run = TinyRun.config(dir, data, ckpt, List.of("train.workers=2", "sample.every=4", "sample.steps=2",
                    "sample.grid_per_label=1"));
            DistributedTraining.run(spark, run);
        } finally {
            ctx.getConfiguration().getRootLogger().removeAppender("capture");
            ctx.getConfiguration().getRootLogger().setLevel(org.apache.logging.log4j.Level.INFO);
            ctx.updateLoggers();
            capture.stop();
        }
        Configuration conf = s3a(new Configuration());
        CheckpointStore store = CheckpointStore.open(ckpt, conf);
        assertEquals(List.of(2L, 4L), store.committedSteps());
        assertEquals(4, store.readState(4).step());
        assertFalse(TinyRun.tensors(ckpt, conf, 4, "ema").isEmpty());
        // metrics.jsonl on S3 (no append: rewritten whole at each logged step) and the charts beside it.
        assertEquals(List.of(1L, 2L, 3L, 4L), dev.ditspark.core.train.MetricsHistory.read(ckpt, conf).stream()
                .map(r -> r.step()).toList());
        try (var in = FileSystem.get(new URI(ckpt), conf).open(new org.apache.hadoop.fs.Path(ckpt + "/plots/loss.png"))) {
            java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(in);
            assertEquals(dev.ditspark.core.plot.TrainingPlots.WIDTH, png.getWidth());
        }
        // Rank 0's grid of step 4 on S3 (written under a temporary name and renamed: one object left).
        try (var in = FileSystem.get(new URI(ckpt), conf).open(new org.apache.hadoop.fs.Path(ckpt
                + "/samples/step-000000004.png"))) {
            assertEquals(2 + 10 * (28 + 2), javax.imageio.ImageIO.read(in).getHeight());
        }
        assertEquals(1, FileSystem.get(new URI(ckpt), conf).listStatus(new org.apache.hadoop.fs.Path(ckpt + "/samples")).length);

        String logged = logs.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("committed"), "the capture saw the run's log");
        assertFalse(logged.contains(SECRET), "the S3 secret key reached a log line");
        FileSystem fs = FileSystem.get(new URI(ckpt), conf);
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(new org.apache.hadoop.fs.Path(ckpt), true);
        int checked = 0;
        while (files.hasNext()) {
            FileStatus f = files.next();
            byte[] bytes;
            try (var in = fs.open(f.getPath())) {
                bytes = in.readAllBytes();
            }
            assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains(SECRET), f.getPath() + " holds the secret");
            assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains(ACCESS), f.getPath() + " holds the key id");
            checked++;
        }
        assertTrue(checked >= 8, "checked " + checked + " checkpoint files");
    }

    @Test
    void wrongCredentialsFailNamingTheStoreNotTheSecret() {
        Configuration conf = s3a(new Configuration());
        conf.set("fs.s3a.secret.key", "wrong-" + SECRET);
        conf.setBoolean("fs.s3a.impl.disable.cache", true); // not the cached file system with the right key
        CheckpointStore store = CheckpointStore.open("s3a://dit/runs/denied", conf);
        RuntimeException e = assertThrows(RuntimeException.class, store::latestStep);
        assertTrue(e.getMessage().contains("s3a://dit/runs/denied"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    /**
     * Issue 10 item 15: {@code s3a://KEY:SECRET@bucket/...} in data.uri or checkpoint.uri (config file, --set, or the
     * JSON dit train --master sends) is refused before Hadoop sees it, by a line naming the field without the
     * secret; where a library still gets such a URI, the console layout (conf/log4j2.xml) hides it in every line.
     */
    @Test
    void inlineCredentialsAreRefusedNamingTheFieldAndNeverPrinted() throws Exception {
        String inline = "s3a://" + ACCESS + ":" + SECRET + "@dit/";
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        LoggerContext ctx = (LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        var layout = ctx.getConfiguration().getAppenders().get("stderr").getLayout(); // conf/log4j2.xml's console
        OutputStreamAppender capture = OutputStreamAppender.newBuilder().setName("capture-console").setTarget(logs)
                .setLayout(layout).build();
        capture.start();
        ctx.getConfiguration().getRootLogger().addAppender(capture, org.apache.logging.log4j.Level.ALL, null);
        ctx.getConfiguration().getRootLogger().setLevel(org.apache.logging.log4j.Level.DEBUG);
        ctx.updateLoggers();
        List<String> messages = new java.util.ArrayList<>();
        try {
            var d = assertThrows(dev.ditspark.core.config.ConfigException.class,
                    () -> TinyRun.config(dir, inline + "data", "s3a://dit/runs/ok", List.of()));
            assertTrue(d.getMessage().startsWith("data.uri: s3a://***@dit/data carries credentials"), d.getMessage());
            var c = assertThrows(dev.ditspark.core.config.ConfigException.class,
                    () -> TinyRun.config(dir, data, "s3a://dit/runs/ok", List.of("checkpoint.uri=" + inline + "runs/x")));
            assertTrue(c.getMessage().startsWith("checkpoint.uri: s3a://***@dit/runs/x carries credentials"), c.getMessage());
            var j = assertThrows(dev.ditspark.core.config.ConfigException.class, () -> TrainJob.parse(new String[] {
                "--config-json", TinyRun.config(dir, data, "s3a://dit/runs/ok", List.of()).toTree().toString(),
                "--set", "data.uri=" + inline + "data"}));
            assertTrue(j.getMessage().startsWith("data.uri: "), j.getMessage());
            messages.addAll(List.of(d.getMessage(), c.getMessage(), j.getMessage()));
            // A library handed such a URI anyway (Hadoop's S3A, with no keys configured): whatever it logs is redacted.
            Configuration bare = s3a(new Configuration());
            bare.unset("fs.s3a.access.key");
            bare.unset("fs.s3a.secret.key");
            bare.setBoolean("fs.s3a.impl.disable.cache", true);
            org.apache.logging.log4j.LogManager.getLogger("org.apache.hadoop.fs.s3a.S3AFileSystem")
                    .warn("opening {}probe", inline); // as a library would word it
            try {
                org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(inline + "probe");
                p.getFileSystem(bare).exists(p);
            } catch (Exception e) {
                org.apache.logging.log4j.LogManager.getLogger(S3TrainingTest.class).warn("library failure: {}", e.toString(), e);
                messages.add(dev.ditspark.core.config.Secrets.redact(e.toString()));
            }
        } finally {
            ctx.getConfiguration().getRootLogger().removeAppender("capture-console");
            ctx.getConfiguration().getRootLogger().setLevel(org.apache.logging.log4j.Level.INFO);
            ctx.updateLoggers();
            capture.stop();
        }
        String logged = logs.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("s3a://***@dit/"), "the capture saw the library's line: " + logged);
        assertFalse(logged.contains(SECRET), "a log line holds the secret:\n" + logged);
        for (String m : messages) {
            assertFalse(m.contains(SECRET) || m.contains(ACCESS), m);
        }
    }

    @Test
    void theRunLeaseAndTheChecksumsHoldOnS3() throws Exception {
        // Issue 10 #2 and #5 where there are no Hadoop .crc files and no atomic create.
        Configuration conf = s3a(new Configuration());
        String ckpt = "s3a://dit/runs/leased";
        CheckpointStore store = CheckpointStore.open(ckpt, conf);
        try (var held = dev.ditspark.core.checkpoint.RunLease.acquire(store, conf)) {
            dev.ditspark.core.checkpoint.CheckpointException e = assertThrows(
                    dev.ditspark.core.checkpoint.CheckpointException.class,
                    () -> dev.ditspark.core.checkpoint.RunLease.acquire(store, conf));
            assertTrue(e.getMessage().startsWith("checkpoint.uri " + ckpt + " is in use by another dit train (host "),
                    e.getMessage());
            assertTrue(e.getMessage().contains(", pid " + ProcessHandle.current().pid() + ", started "), e.getMessage());
        }
        dev.ditspark.core.checkpoint.RunLease.acquire(store, conf).close(); // released

        RunConfig run = TinyRun.config(dir, data, ckpt, List.of("train.max_steps=4"));
        try (dev.ditspark.core.train.Trainer t = new dev.ditspark.core.train.Trainer(run,
                dev.ditspark.core.collective.Collective.local(), ai.djl.Device.cpu(), conf)) {
            t.run(dev.ditspark.core.train.TrainingListener.NONE);
        }
        FileSystem fs = FileSystem.get(new URI(ckpt), conf);
        org.apache.hadoop.fs.Path model = new org.apache.hadoop.fs.Path(ckpt + "/step-000000004/model.safetensors");
        byte[] bytes;
        try (var in = fs.open(model)) {
            bytes = in.readAllBytes();
        }
        bytes[bytes.length - 5] ^= 0x08; // one flipped bit, same size
        try (var out = fs.create(model, true)) {
            out.write(bytes);
        }
        assertEquals(4, store.latestStep().getAsLong());
        assertEquals(2, store.latestIntactStep().getAsLong());
    }
}
