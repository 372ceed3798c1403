package dev.ditspark.dataprep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.data.DatasetFormatException;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentSubset;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.Posterior;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dit prepare} end to end in a real local[2] Spark: an ImageNet-layout folder with broken files and a tiny
 * random VAE → shards that {@link LatentDataset} (what the trainer reads) loads back, equal to the VAE applied
 * directly; a re-run after a crash before the manifest redoes only the unfinished shard.
 */
@Tag("e2e")
class PrepareJobTest {
    private static final int SIZE = 16;
    private static final VaeConfig TINY = new VaeConfig(3, 3, 4, List.of(4, 8, 8), 1, 2, 0.18215);

    @Test
    void preparesAFolderWithBrokenFilesAndResumes(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("images");
        Map<String, Integer> good = new HashMap<>(); // file name → label
        TestImages.write(in.resolve("cat/a.png"), TestImages.encode(TestImages.random(40, 30, BufferedImage.TYPE_INT_RGB, 1), "png"));
        TestImages.write(in.resolve("cat/b.jpg"), TestImages.encode(TestImages.random(50, 40, BufferedImage.TYPE_INT_RGB, 2), "jpg"));
        TestImages.write(in.resolve("cat/alpha.png"), TestImages.encode(TestImages.random(33, 33, BufferedImage.TYPE_INT_ARGB, 3), "png"));
        TestImages.write(in.resolve("cat/grey.png"), TestImages.encode(TestImages.random(20, 24, BufferedImage.TYPE_BYTE_GRAY, 4), "png"));
        TestImages.write(in.resolve("cat/.DS_Store"), new byte[] {1, 2, 3}); // hidden: ignored, not reported
        TestImages.write(in.resolve("dog/c.jpg"), TestImages.encode(TestImages.random(64, 48, BufferedImage.TYPE_INT_RGB, 5), "jpg"));
        TestImages.write(in.resolve("dog/grey.jpg"), TestImages.encode(TestImages.random(24, 24, BufferedImage.TYPE_BYTE_GRAY, 6), "jpg"));
        byte[] jpeg = TestImages.encode(TestImages.random(80, 60, BufferedImage.TYPE_INT_RGB, 7), "jpg");
        TestImages.write(in.resolve("dog/truncated.jpg"), java.util.Arrays.copyOf(jpeg, jpeg.length / 2));
        TestImages.write(in.resolve("dog/notes.txt"), "not an image".getBytes());
        Files.createDirectories(in.resolve("empty"));
        TestImages.write(in.resolve("zebra/tiny.png"), TestImages.encode(TestImages.random(8, 6, BufferedImage.TYPE_INT_RGB, 8), "png"));
        TestImages.write(in.resolve("zebra/d.png"), TestImages.encode(TestImages.random(17, 70, BufferedImage.TYPE_INT_RGB, 9), "png"));
        TestImages.write(in.resolve("README.txt"), "stray".getBytes());
        for (String f : List.of("cat/a.png", "cat/b.jpg", "cat/alpha.png", "cat/grey.png")) {
            good.put(f, 0);
        }
        good.put("dog/c.jpg", 1);
        good.put("dog/grey.jpg", 1);
        good.put("zebra/tiny.png", 3);
        good.put("zebra/d.png", 3);

        Path vaeFile = tmp.resolve("tiny-vae.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            AutoencoderKL vae = new AutoencoderKL(TINY);
            vae.initialize(m, new Random(3));
            StateDict.write(vae, vaeFile, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, TINY.toJson()));
        }
        String out = tmp.resolve("latents").toUri().toString();
        PrepareOptions o = new PrepareOptions(in.toString(), out, SIZE, vaeFile.toString(), "tiny-vae",
                LatentDType.FLOAT32, 3, 2);

        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("prepare-test")
                .set("spark.ui.enabled", "false").set("spark.stage.maxConsecutiveAttempts", "1"))) {
            PrepareReport r = PrepareJob.run(sc, o);
            Set<String> bad = r.badFiles().stream().map(b -> in.relativize(Path.of(java.net.URI.create(b.path())))
                    .toString()).collect(Collectors.toSet());
            assertEquals(Set.of("dog/truncated.jpg", "dog/notes.txt"), bad);
            assertEquals(1, r.strayFiles().size());
            assertTrue(r.strayFiles().get(0).endsWith("README.txt"), r.strayFiles().toString());
            assertEquals(List.of("empty"), r.emptyClasses());
            assertEquals(1, r.upscaled().size());
            assertTrue(r.upscaled().get(0).endsWith("zebra/tiny.png"));
            assertEquals(10, r.imagesListed());
            assertEquals(8, r.imagesWritten());
            assertEquals(4, r.shards()); // 10 images / 3 per shard
            assertEquals(0, r.shardsReused());
            JsonNode written = new ObjectMapper().readTree(tmp.resolve("latents/_report.json").toFile());
            assertEquals(2, written.get("bad_files").size());

            LatentDataset ds = LatentDataset.open(out);
            DatasetManifest mf = ds.manifest();
            assertEquals(8, mf.count());
            assertEquals(List.of("cat", "dog", "empty", "zebra"), mf.classNames());
            assertEquals(4, mf.channels());
            assertEquals(SIZE / 4, mf.height());
            assertEquals("tiny-vae", mf.encoder());
            assertEquals(0.18215, mf.scaleFactor());
            assertEquals(SIZE, mf.imageSize());
            assertRowsMatchTheVae(ds.loadAll(), in, good, vaeFile);

            // A crash after the shards but before the manifest: the dataset is invisible, and a re-run redoes only
            // the task without an outcome file.
            Path dir = tmp.resolve("latents");
            Files.delete(dir.resolve("manifest.json"));
            assertThrows(DatasetFormatException.class, () -> LatentDataset.open(out));
            Files.delete(dir.resolve("_tasks/task-00002.json"));
            Map<String, FileTime> before = shardTimes(dir);
            FileTime old = FileTime.fromMillis(before.values().iterator().next().toMillis() - 60_000);
            for (String s : before.keySet()) {
                Files.setLastModifiedTime(dir.resolve(s), old);
            }
            PrepareReport again = PrepareJob.run(sc, o);
            assertEquals(3, again.shardsReused());
            assertEquals(2, again.badFiles().size()); // reused tasks' bad files come from their outcome files
            Map<String, FileTime> after = shardTimes(dir);
            assertEquals(before.keySet(), after.keySet());
            for (String s : after.keySet()) {
                if (s.startsWith("part-t00002")) {
                    assertNotEquals(old, after.get(s), s + " should have been rewritten");
                } else {
                    assertEquals(old, after.get(s), s + " should have been skipped");
                }
            }
            assertEquals(8, LatentDataset.open(out).size());
            assertThrows(IllegalArgumentException.class, () -> PrepareJob.run(sc, o), "a finished dataset is not redone");
        }
    }

    /** Every row equals the VAE applied directly to one good image (crop, mirror), with that image's label. */
    private static void assertRowsMatchTheVae(LatentSubset rows, Path in, Map<String, Integer> good, Path vaeFile)
            throws Exception {
        assertEquals(good.size(), rows.size());
        List<float[][]> expected = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (NDManager m = TorchEngine.newManager()) {
            AutoencoderKL vae = AutoencoderKL.load(vaeFile, m);
            for (Map.Entry<String, Integer> e : good.entrySet()) {
                RgbImage crop = AdmCenterCrop.apply(ImageDecoder.decode(Files.readAllBytes(in.resolve(e.getKey()))), SIZE);
                float[] px = new float[2 * 3 * SIZE * SIZE];
                crop.toUnitRange(px, 0, false);
                crop.toUnitRange(px, 3 * SIZE * SIZE, true);
                Posterior p = vae.encode(m.create(px, new Shape(2, 3, SIZE, SIZE)));
                float[] mean = p.mean().toFloatArray();
                float[] std = p.std().toFloatArray();
                int n = mean.length / 2;
                expected.add(new float[][] {java.util.Arrays.copyOf(mean, n), java.util.Arrays.copyOf(std, n),
                    java.util.Arrays.copyOfRange(mean, n, 2 * n), java.util.Arrays.copyOfRange(std, n, 2 * n)});
                labels.add(e.getValue());
            }
        }
        Set<Integer> matched = new HashSet<>();
        for (int i = 0; i < rows.size(); i++) {
            LatentSubset.Sample s = rows.get(i);
            int found = -1;
            for (int j = 0; j < expected.size(); j++) {
                if (close(expected.get(j)[0], s.mean()) && close(expected.get(j)[1], s.std())
                        && close(expected.get(j)[2], s.meanFlip()) && close(expected.get(j)[3], s.stdFlip())) {
                    found = j;
                }
            }
            assertTrue(found >= 0, "row " + i + " matches no image encoded directly");
            assertEquals(labels.get(found), s.label(), "label of row " + i);
            assertTrue(matched.add(found), "two rows for one image");
        }
    }

    private static boolean close(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > 1e-5 * (1 + Math.abs(a[i]))) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, FileTime> shardTimes(Path dir) throws Exception {
        Map<String, FileTime> m = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList()) {
                m.put(p.getFileName().toString(), Files.getLastModifiedTime(p));
            }
        }
        return m;
    }
}
