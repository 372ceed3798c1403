package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ditspark.core.sample.SampleOutput;
import dev.ditspark.core.sample.SamplePlan;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 1 on S3: the chunks and the output of a distributed {@code dit sample} on s3a:// (s3proxy on
 * 127.0.0.1, where a rename is a copy), resumed from a chunk already there, equal to the local bytes.
 */
class S3SamplingTest {
    private static final String ACCESS = "AKIDITSPARKTEST0002";
    private static final String SECRET = "s3cr3t-Sampling-Never-Logged";

    @TempDir
    static Path dir;

    @Test
    void chunksAndOutputOnS3AreTheLocalBytes() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        // DistributedSamplingTest's tiny model and plan.
        Path weights = dir.resolve("tiny.safetensors");
        try (var m = dev.ditspark.core.engine.TorchEngine.newManager()) {
            var dit = new dev.ditspark.core.model.DiT(DistributedSamplingTest.TINY);
            dit.initialize(m, new java.util.Random(5));
            dev.ditspark.core.weights.StateDict.write(dit, weights, dev.ditspark.core.weights.TensorDType.F32,
                    java.util.Map.of());
        }
        Path local = dir.resolve("local");
        SamplePlan p0 = DistributedSamplingTest.plan(local.toString(), weights.toString());
        DistributedSamplingTest.sampleHere(p0, new int[] {0, 1, 2, 3});
        SampleOutput.assemble(p0, new Configuration());

        BlobStoreContext blobs = ContextBuilder.newBuilder("transient").credentials("local", "local")
                .overrides(new Properties()).build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, "dit");
        S3Proxy s3 = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET).build();
        s3.start();
        try (JavaSparkContext spark = new JavaSparkContext(TinyRun.localSpark("local[2]"))) {
            while (!s3.getState().equals("STARTED")) {
                Thread.sleep(10);
            }
            Configuration conf = spark.hadoopConfiguration();
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

            // A chunk an earlier run left on S3 is reused.
            SamplePlan p = DistributedSamplingTest.plan("s3a://dit/samples", weights.toString());
            dev.ditspark.core.sample.SampleChunks.open(p.chunksLocation(), conf, p.request(), l -> { })
                    .write(p.chunkStart(2), dev.ditspark.core.sample.SampleImages.readNpz(local.resolve("samples.npz"))
                            .subset(new int[] {6, 7, 8}));
            DistributedSampling.Result r = DistributedSampling.run(spark, p, 2, l -> { });
            assertEquals(1, r.resumed());
            assertEquals(3, r.sampled());
            FileSystem fs = FileSystem.get(URI.create("s3a://dit/"), conf);
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("s3a://dit/samples/samples.npz"))) {
                assertArrayEquals(Files.readAllBytes(local.resolve("samples.npz")), in.readAllBytes());
            }
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path("s3a://dit/samples/grid.png"))) {
                assertArrayEquals(Files.readAllBytes(local.resolve("grid.png")), in.readAllBytes());
            }
            assertFalse(fs.exists(new org.apache.hadoop.fs.Path("s3a://dit/samples/chunks/request.json")));
        } finally {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
            s3.stop();
            blobs.close();
        }
    }
}
