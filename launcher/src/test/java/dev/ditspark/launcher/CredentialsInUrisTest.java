package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 15 on the command line: a URI with credentials in any option or config field ends the command
 * before anything runs with one line naming the option, the URI shown as {@code s3a://***@bucket/...}.
 */
class CredentialsInUrisTest {
    private static final String KEY = "AKIDITSPARKTEST0001";
    private static final String SECRET = "s3cr3t-Never-Logged-4f1b9c";
    private static final String INLINE = "s3a://" + KEY + ":" + SECRET + "@bucket/";

    @TempDir
    Path dir;

    private static void assertRefused(DitRun r, String option) {
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().strip().startsWith("dit: " + option + ": s3a:/"), r.all());
        assertTrue(r.err().contains("***@bucket/") && r.err().contains("carries credentials in the URI"), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.all());
        assertFalse(r.all().contains(SECRET) || r.all().contains(KEY), r.all());
    }

    @Test
    void trainRefusesCredentialsInDataAndCheckpointUris() throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: 'file:///tmp/data'}
                checkpoint: {uri: 'file:///tmp/ckpt'}
                """);
        assertRefused(DitRun.of("train", "--config", yaml.toString(), "--set", "data.uri=" + INLINE + "data"), "data.uri");
        assertRefused(DitRun.of("train", "--config", yaml.toString(), "--set", "checkpoint.uri=" + INLINE + "runs/a"),
                "checkpoint.uri");
    }

    @Test
    void prepareRefusesCredentialsInOutputAndVae() {
        String in = dir.toString();
        assertRefused(DitRun.of("prepare", "--input", in, "--output", INLINE + "latents", "--vae", "vae.safetensors"),
                "--output");
        assertRefused(DitRun.of("prepare", "--input", in, "--output", dir.resolve("o").toString(), "--vae",
                INLINE + "vae.safetensors"), "--vae");
    }

    @Test
    void sampleRefusesCredentialsInTheCheckpointUri() {
        assertRefused(DitRun.of("sample", "--checkpoint", INLINE + "runs/a", "--out", dir.resolve("s").toString()),
                "--checkpoint");
    }
}
