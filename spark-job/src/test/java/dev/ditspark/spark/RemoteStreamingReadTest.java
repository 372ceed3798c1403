package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.bench.ShardReadBenchmark;
import dev.ditspark.core.data.DataCursor;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming reader from HDFS (MiniDFSCluster, one datanode) and S3 (s3proxy on 127.0.0.1, in memory), and the
 * throughput figures of docs/benchmarks.md: 2,000 random 4×32×32 float16 latents (the 256 px row, 32 KiB) in
 * 1,000-row shards, one epoch streamed in windows (a 160 MiB budget: ~500-row windows) after a whole-share load of the
 * same files. Each stream is checked to deliver every planned row exactly once; the figures are printed, not
 * asserted. Run: {@code mvn -o -pl spark-job -am test -Pe2e -Dtest=RemoteStreamingReadTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("e2e")
class RemoteStreamingReadTest {
    private static final java.io.PrintWriter OUT = new java.io.PrintWriter(System.out, true);
    private static final int ROWS = 2000;
    private static final long BUDGET = 160L << 20;

    @TempDir
    static Path dir;

    static MiniDFSCluster hdfs;
    static S3Proxy s3;
    static BlobStoreContext blobs;

    @BeforeAll
    static void start() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("hdfs").toString());
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
        blobs = ContextBuilder.newBuilder("transient").credentials("local", "local").overrides(new Properties())
                .build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, "dit");
        s3 = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "AKIDSTREAMBENCH", "stream-bench-secret").build();
        s3.start();
        while (!s3.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        if (hdfs != null) {
            hdfs.shutdown();
        }
        if (s3 != null) {
            s3.stop();
        }
        if (blobs != null) {
            blobs.close();
        }
    }

    private static Configuration s3a() {
        Configuration conf = new Configuration();
        conf.set("fs.s3a.endpoint", "http://127.0.0.1:" + s3.getPort());
        conf.set("fs.s3a.endpoint.region", "us-east-1");
        conf.set("fs.s3a.path.style.access", "true");
        conf.set("fs.s3a.connection.ssl.enabled", "false");
        conf.set("fs.s3a.access.key", "AKIDSTREAMBENCH");
        conf.set("fs.s3a.secret.key", "stream-bench-secret");
        conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.change.detection.mode", "none");
        return conf;
    }

    @Test
    void localDisk() throws Exception {
        measure("local disk", dir.resolve("local").toUri().toString(), new Configuration());
    }

    @Test
    void hdfs() throws Exception {
        measure("HDFS (MiniDFSCluster)", "hdfs://127.0.0.1:" + hdfs.getNameNodePort() + "/latents", hdfs.getConfiguration(0));
    }

    @Test
    void s3() throws Exception {
        measure("S3 (s3proxy)", "s3a://dit/latents", s3a());
    }

    private static void measure(String where, String uri, Configuration conf) throws Exception {
        ShardReadBenchmark.writeLatents(uri, ROWS, 32, CompressionCodecName.SNAPPY, conf);
        try (LatentStream s = LatentStream.open(LatentDataset.open(uri, conf), 0, 1, 0, 1, 250, BUDGET)
                .start(DataCursor.START)) {
            assertFalse(s.resident());
            assertTrue(s.windowsPerEpoch() > 2, s.windowsPerEpoch() + " windows");
            long[] planned = s.order(0, 0);
            for (int b = 0; b < ROWS / 250; b++) {
                long[] got = s.next().globalIndices();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(planned[b * 250 + i], got[i]);
                }
            }
            assertTrue(s.peakHeldBytes() <= BUDGET, s.peakHeldBytes() + " bytes held");
        }
        System.out.printf("%nrandom latents 4x32x32 float16 (256 px), %d rows, from %s:%n", ROWS, where);
        ShardReadBenchmark.whole(uri, conf, 4).print(OUT, "  whole share, 4 threads");
        ShardReadBenchmark.stream(uri, conf, BUDGET, 250).print(OUT, "  streamed, 1 stream");
    }
}
