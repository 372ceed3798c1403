package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import javax.imageio.ImageIO;
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
 * Issue 10 item 16: {@code dit prepare --vae s3a://bucket/key}, as documented, reads the VAE from S3 (a real S3 API
 * server on 127.0.0.1) instead of answering "no such file" for a path mangled to {@code s3a:/bucket/key}.
 */
@Tag("e2e")
class PrepareVaeUriTest {
    private static final String ACCESS = "AKIDITSPARKTEST0002";
    private static final String SECRET = "s3cr3t-prepare-vae";
    private static final Map<String, String> S3A = new java.util.LinkedHashMap<>();

    @TempDir
    static Path dir;
    static S3Proxy s3;
    static BlobStoreContext blobs;

    @BeforeAll
    static void start() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        blobs = ContextBuilder.newBuilder("transient").credentials("local", "local").overrides(new Properties())
                .build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, "models");
        s3 = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET).build();
        s3.start();
        while (!s3.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
        // What a user puts in spark-defaults.conf; the embedded Spark of dit prepare reads spark.* properties.
        S3A.put("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:" + s3.getPort());
        S3A.put("spark.hadoop.fs.s3a.endpoint.region", "us-east-1");
        S3A.put("spark.hadoop.fs.s3a.path.style.access", "true");
        S3A.put("spark.hadoop.fs.s3a.connection.ssl.enabled", "false");
        S3A.put("spark.hadoop.fs.s3a.access.key", ACCESS);
        S3A.put("spark.hadoop.fs.s3a.secret.key", SECRET);
        S3A.put("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        S3A.put("spark.hadoop.fs.s3a.change.detection.mode", "none");
        S3A.put("spark.hadoop.fs.s3a.attempts.maximum", "1");
        S3A.put("spark.hadoop.fs.s3a.retry.limit", "1");
        S3A.forEach(System::setProperty);
    }

    @AfterAll
    static void stop() throws Exception {
        // Hadoop caches one FileSystem per s3a://bucket in the JVM; the next test class's server has another port.
        org.apache.hadoop.fs.FileSystem.closeAll();
        S3A.keySet().forEach(System::clearProperty);
        s3.stop();
        blobs.close();
    }

    @Test
    void theVaeIsReadFromS3AndAMissingKeyIsNamedUnmangled() throws Exception {
        Path in = dir.resolve("in");
        for (String c : List.of("a", "b")) {
            Files.createDirectories(in.resolve(c));
            BufferedImage im = new BufferedImage(20, 18, BufferedImage.TYPE_INT_RGB);
            Random r = new Random(c.hashCode());
            for (int y = 0; y < 18; y++) {
                for (int x = 0; x < 20; x++) {
                    im.setRGB(x, y, r.nextInt());
                }
            }
            ImageIO.write(im, "png", in.resolve(c + "/0.png").toFile());
        }
        VaeConfig tiny = new VaeConfig(3, 3, 4, List.of(4, 4), 1, 2, 0.18215);
        Path vae = dir.resolve("vae.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            AutoencoderKL model = new AutoencoderKL(tiny);
            model.initialize(m, new Random(1));
            StateDict.write(model, vae, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, tiny.toJson()));
        }
        String key = "vae-" + System.nanoTime() + ".safetensors"; // PrepareJob caches downloads by URI
        blobs.getBlobStore().putBlob("models", blobs.getBlobStore().blobBuilder(key).payload(vae.toFile()).build());

        DitRun missing = DitRun.of("prepare", "--input", in.toString(), "--output", dir.resolve("never").toString(),
                "--image-size", "16", "--vae", "s3a://models/nope-" + key, "--master", "local[1]");
        assertEquals(2, missing.code(), missing.all());
        assertTrue(missing.err().contains("--vae s3a://models/nope-" + key + ": no such file"), missing.all());

        DitRun ok = DitRun.of("prepare", "--input", in.toString(), "--output", dir.resolve("latents").toString(),
                "--image-size", "16", "--vae", "s3a://models/" + key, "--master", "local[1]");
        assertEquals(0, ok.code(), ok.all());
        LatentDataset ds = LatentDataset.open(dir.resolve("latents").toUri().toString());
        assertEquals(2, ds.size());
        assertEquals(key, ds.manifest().encoder());
        assertTrue(!ok.all().contains(SECRET));
    }
}
