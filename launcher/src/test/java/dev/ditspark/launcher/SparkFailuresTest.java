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
}
