package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.data.FashionMnist;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 13: a deterministic failure inside the Spark job ends {@code dit train} with its root cause as
 * one {@code dit:} line naming the rank and the file or field (not 200–970 lines of SparkException), exit 1.
 */
@Tag("e2e")
class SparkFailuresTest {
    @TempDir
    static Path dir;

    static String data;

    @BeforeAll
    static void data() throws Exception {
        data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 32);
    }

    private static void assertOneDitLine(DitRun r, String regex) {
        assertEquals(1, r.code(), r.all());
        String err = r.err().strip();
        assertTrue(!err.contains("\n") && err.matches(regex), "expected one line matching " + regex + ", got:\n" + r.all());
    }

    /** A shipped config (DiT-XL/2, 8 workers, nccl) on this CPU machine. */
    @Test
    void aShippedGpuConfigOnACpuMachine() {
        Path yaml = RepoFiles.root().resolve("conf/dit-xl-2-256.yaml");
        DitRun r = DitRun.of("train", "--config", yaml.toString(), "--set", "data.uri=" + data,
                "--set", "checkpoint.uri=" + dir.resolve("xl").toUri());
        assertOneDitLine(r, "dit: rank [0-7]: collective\\.backend: nccl needs one GPU per task .*collective\\.backend=tcp\\)\\.");
    }

    @Test
    void aTruncatedShardWithTwoWorkers() throws Exception {
        Path copy = dir.resolve("broken");
        FashionMnist.installed().importTo(copy.toUri().toString(), FashionMnist.Split.TRAIN, 32);
        Path shard;
        try (Stream<Path> s = Files.list(copy)) {
            shard = s.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        try (FileChannel c = FileChannel.open(shard, StandardOpenOption.WRITE)) {
            c.truncate(c.size() - 100);
        }
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: '%s'}
                train: {global_batch: 8, max_steps: 4, lr: 1.0e-3, log_every: 1, threads: 1}
                checkpoint: {uri: '%s', every: 2}
                collective: {backend: tcp, timeout_seconds: 60}
                """.formatted(copy.toUri(), dir.resolve("ck").toUri()));
        DitRun r = DitRun.of("train", "--config", yaml.toString(), "--workers", "2");
        assertOneDitLine(r, "dit: rank [01]: .*" + shard.getFileName() + ": corrupt or truncated shard.*");
    }

    /** dit prepare's job: a task that cannot write its outcome ends the command with the cause in one line. */
    @Test
    void aPrepareTaskFailureIsOneLine() throws Exception {
        Path in = dir.resolve("images");
        java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(20, 18, java.awt.image.BufferedImage.TYPE_INT_RGB);
        Files.createDirectories(in.resolve("a"));
        javax.imageio.ImageIO.write(im, "png", in.resolve("a/0.png").toFile());
        dev.ditspark.core.vae.VaeConfig tiny = new dev.ditspark.core.vae.VaeConfig(3, 3, 4, java.util.List.of(4, 4), 1, 2, 0.18215);
        Path vae = dir.resolve("vae.safetensors");
        try (ai.djl.ndarray.NDManager m = dev.ditspark.core.engine.TorchEngine.newManager()) {
            dev.ditspark.core.vae.AutoencoderKL model = new dev.ditspark.core.vae.AutoencoderKL(tiny);
            model.initialize(m, new java.util.Random(1));
            dev.ditspark.core.weights.StateDict.write(model, vae, dev.ditspark.core.weights.TensorDType.F32,
                    java.util.Map.of(dev.ditspark.core.vae.VaeConfig.METADATA_KEY, tiny.toJson()));
        }
        Path out = dir.resolve("latents");
        Files.createDirectories(out);
        Files.writeString(out.resolve("_tasks"), "a file where the task outcomes' folder goes");
        DitRun r = DitRun.of("prepare", "--input", in.toString(), "--output", out.toString(), "--image-size", "16",
                "--vae", vae.toString(), "--master", "local[2]");
        assertOneDitLine(r, "dit: .*_tasks.*");
    }
}
