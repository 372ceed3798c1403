package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.weights.SafetensorsFile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 #2 and #3 on a real {@code dit train} process (the launcher's main in a JVM of its own): a second
 * {@code dit train} on its checkpoint.uri is refused naming it; SIGTERM makes it checkpoint the step reached and
 * exit 143; the same command then resumes and ends bit-identical to an uninterrupted run — with one worker, and
 * with two on the embedded local Spark.
 */
@Tag("e2e")
class TrainStopTest {
    private static final int MAX_STEPS = 300;

    @TempDir
    static Path dir;

    static Path yaml;

    @BeforeAll
    static void data() throws Exception {
        String data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 32);
        yaml = dir.resolve("tiny.yaml");
        // No periodic checkpoint before the end: the one a stop leaves is the stop's own.
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: '%s'}
                train: {global_batch: 8, max_steps: %d, lr: 1.0e-3, log_every: 1, threads: 1}
                checkpoint: {uri: 'unset', every: 100000}
                collective: {backend: tcp, timeout_seconds: 60}
                """.formatted(data, MAX_STEPS));
    }

    /** {@code dit train ARGS} as its own process, logging as bin/dit does. */
    private static Process start(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-Dlog4j2.configurationFile=" + RepoFiles.root().resolve("conf/log4j2.xml"),
                "-cp", System.getProperty("java.class.path"), DitCommand.class.getName(), "train"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    /** {@code dit train ARGS} in this JVM. */
    private static DitRun train(List<String> args) {
        List<String> all = new ArrayList<>(List.of("train"));
        all.addAll(args);
        return DitRun.of(all.toArray(String[]::new));
    }

    private void stopAndResume(String name, List<String> extra) throws Exception {
        String ckpt = dir.resolve(name).toUri().toString();
        List<String> args = new ArrayList<>(List.of("--config", yaml.toString(), "--set", "checkpoint.uri=" + ckpt));
        args.addAll(extra);
        Process p = start(args);
        StringBuilder output = new StringBuilder();
        CountDownLatch training = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.contains("Trainer - step 5 epoch")) {
                        training.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        assertTrue(training.await(300, TimeUnit.SECONDS), () -> "no step 5 within 300 s:\n" + output);

        // Issue 10 #2: a second dit train on the same checkpoint.uri is refused, naming the first.
        DitRun second = train(args);
        assertEquals(1, second.code(), second.all());
        assertTrue(second.err().startsWith("dit: checkpoint.uri " + CheckpointStore.open(ckpt, new Configuration()).uri()
                + " is in use by another dit train (host "), second.all());
        assertTrue(second.err().contains(", pid " + p.pid() + ", started "), second.all());

        // SIGTERM through the process handle: Process.destroy() would also close our end of its output pipe.
        assertTrue(p.toHandle().destroy());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running 120 s after SIGTERM");
        reader.join();
        String out = output.toString();
        assertEquals(143, p.exitValue(), out);
        Matcher m = Pattern.compile("stopped by SIGTERM at step (\\d+); checkpoint (\\S+) holds it; run the same command "
                + "to resume").matcher(out);
        assertTrue(m.find(), out);
        long stoppedAt = Long.parseLong(m.group(1));
        assertTrue(stoppedAt >= 5 && stoppedAt < MAX_STEPS, out);
        CheckpointStore store = CheckpointStore.open(ckpt, new Configuration());
        assertEquals(List.of(stoppedAt), store.committedSteps());
        assertEquals(store.location(stoppedAt), m.group(2));

        DitRun resumed = train(args);
        assertEquals(0, resumed.code(), resumed.all());
        assertTrue(resumed.out().contains("trained to step " + MAX_STEPS), resumed.all());

        String straight = dir.resolve(name + "-straight").toUri().toString();
        List<String> straightArgs = new ArrayList<>(List.of("--config", yaml.toString(), "--set", "checkpoint.uri=" + straight));
        straightArgs.addAll(extra);
        DitRun uninterrupted = train(straightArgs);
        assertEquals(0, uninterrupted.code(), uninterrupted.all());
        for (String file : List.of("model", "ema", "optimizer")) {
            try (SafetensorsFile a = CheckpointStore.open(straight, new Configuration()).openTensors(MAX_STEPS, file);
                    SafetensorsFile b = store.openTensors(MAX_STEPS, file)) {
                assertEquals(a.names(), b.names());
                for (String t : a.names()) {
                    assertArrayEquals(a.readFloat32(t), b.readFloat32(t), 0f, file + " " + t);
                }
            }
        }
    }

    @Test
    void sigtermCheckpointsTheStepReachedAndTheRunResumesBitIdentically() throws Exception {
        stopAndResume("one", List.of());
    }

    @Test
    void theSameWithTwoWorkersOnTheEmbeddedSpark() throws Exception {
        stopAndResume("two", List.of("--workers", "2"));
    }
}
