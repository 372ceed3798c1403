package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit bench} prints real figures for each of its measurements (the commands of docs/benchmarks.md). */
class BenchCommandTest {

    @TempDir
    Path dir;

    /** A tiny DiT whose activations (256 tokens) outweigh its weights, as a run config. */
    private String tinyConfig() throws Exception {
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, """
                model: {input_size: 32, patch_size: 2, hidden_size: 64, depth: 2, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: unused}
                checkpoint: {uri: unused}
                """);
        return yaml.toString();
    }

    private static Matcher result(String out, String benchCase) {
        Matcher m = Pattern.compile("(?m)^result case=" + benchCase + " model=tiny\\.yaml batch=(\\d+) threads=1 (.*)"
                + "steps=(\\d+) wall_s=([0-9.]+) cpu_s=([0-9.]+)(?: jit_s=([0-9.]+))?$").matcher(out);
        assertTrue(m.find(), out);
        return m;
    }

    @Test
    void stepTimesWholeTrainingStepsThroughTheTrainer() throws Exception {
        DitRun r = DitRun.of("bench", "step", "--config", tinyConfig(), "--batch", "4", "--iterations", "3",
                "--warmup", "1", "--threads", "1");
        assertEquals(0, r.code(), r.all());
        Matcher m = result(r.out(), "step");
        assertEquals("4", m.group(1));
        assertEquals("3", m.group(3)); // the warm-up step is not counted
        assertTrue(Double.parseDouble(m.group(4)) > 0, r.all());
        assertTrue(m.group(6) != null && Double.parseDouble(m.group(6)) <= Double.parseDouble(m.group(5)),
                "the JIT's share of the CPU time is printed (Linux) and is part of it: " + r.all());
    }

    @Test
    void fwdbwdAndSamplePrintPerStepTimes() throws Exception {
        DitRun f = DitRun.of("bench", "fwdbwd", "--config", tinyConfig(), "--batch", "2", "--iterations", "2",
                "--warmup", "0", "--threads", "1");
        assertEquals(0, f.code(), f.all());
        assertEquals("2", result(f.out(), "fwdbwd").group(3));
        DitRun s = DitRun.of("bench", "sample", "--config", tinyConfig(), "--batch", "2", "--steps", "5",
                "--warmup", "2", "--threads", "1");
        assertEquals(0, s.code(), s.all());
        Matcher m = result(s.out(), "sample");
        assertEquals("ddpm=5 cfg=4.0 ", m.group(2));
        assertEquals("3", m.group(3)); // 5 DDPM steps, 2 of them warm-up
    }

    @Test
    void memoryMeasuresEachBatchInAFreshProcess() throws Exception {
        DitRun r = DitRun.of("bench", "memory", "--config", tinyConfig(), "--batch", "1,9", "--threads", "1");
        assertEquals(0, r.code(), r.all());
        Matcher m = Pattern.compile("(?m)^result case=memory model=tiny\\.yaml batch=(\\d+) threads=1 init_mb=([0-9.]+) "
                + "peak_mb=([0-9.]+)$").matcher(r.out());
        double[] peak = new double[2];
        for (int i = 0; i < 2; i++) {
            assertTrue(m.find(), r.all());
            assertEquals(i == 0 ? "1" : "9", m.group(1));
            double init = Double.parseDouble(m.group(2));
            peak[i] = Double.parseDouble(m.group(3));
            // libtorch is loaded in the child; forward+backward only adds to the high-water mark
            assertTrue(init > 50 && peak[i] >= init, r.all());
        }
        Matcher slope = Pattern.compile("(?m)^result case=memory-per-sample model=tiny\\.yaml threads=1 mb_per_sample=([-0-9.]+)$")
                .matcher(r.out());
        assertTrue(slope.find(), r.all());
        // 8 more samples of 256 tokens x 2 blocks: several MB each (attention maps, MLP activations)
        double perSample = Double.parseDouble(slope.group(1));
        assertEquals((peak[1] - peak[0]) / 8, perSample, 0.1, r.all());
        assertTrue(perSample > 1, r.all());
    }

    @Test
    void badBatchIsNamed() throws Exception {
        DitRun r = DitRun.of("bench", "memory", "--config", tinyConfig(), "--batch", "0");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("--batch: sizes must be positive, got 0"), r.all());
    }

    @Test
    void modelPrintsThroughputForEachConfig() {
        DitRun r = DitRun.of("bench", "--models", "DiT-S/8", "--batch", "1", "--iterations", "1", "--warmup", "0",
                "--threads", "1");
        assertEquals(0, r.code(), r.all());
        Matcher row = Pattern.compile("DiT-S/8 +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9.]+)").matcher(r.out());
        assertTrue(row.find(), r.all());
        assertTrue(Double.parseDouble(row.group(4)) > 0, r.all()); // training images/s
    }

    @Test
    void modelOfARunConfig() {
        DitRun r = DitRun.of("bench", "--config", "../conf/demo.yaml", "--batch", "2", "--iterations", "1", "--warmup", "0");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("the model of ../conf/demo.yaml"), r.all());
        assertTrue(Pattern.compile("demo\\.yaml +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+").matcher(r.out()).find(), r.all());
    }

    @Test
    void allreducePrintsBandwidthAndTheRingModel() {
        DitRun r = DitRun.of("bench", "allreduce", "--sizes-mb", "1", "--ranks", "2", "--iterations", "1");
        assertEquals(0, r.code(), r.all());
        // A measured row for 1 MB over 2 ranks, and the model's row for 8 GPUs.
        assertTrue(Pattern.compile("(?m)^ +1 +2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$").matcher(r.out()).find(), r.all());
        assertTrue(r.out().contains("8 NVLink 150 GB/s"), r.all());
    }

    @Test
    void loaderPrintsReadRatesThroughTheCommandsOutput() {
        DitRun r = DitRun.of("bench", "loader", "--images", "200", "--iterations", "1");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("Fashion-MNIST: 200 images"), r.all());
        for (String dtype : new String[] {"FLOAT16", "FLOAT32"}) {
            for (String codec : new String[] {"SNAPPY", "UNCOMPRESSED"}) {
                assertTrue(Pattern.compile("(?mi)^" + dtype + " " + codec + ": 200 rows in 1 shards").matcher(r.out()).find(),
                        r.all());
            }
        }
        assertTrue(Pattern.compile("(?m)^  column readers \\(CRC checked\\), 4 threads: [0-9.]+ s, +[0-9]+ samples/s")
                .matcher(r.out()).find(), r.all());
        assertTrue(Pattern.compile("(?m)^  streamed, 1 stream: [0-9.]+ s .*samples/s.*reader holds").matcher(r.out()).find(),
                r.all());
    }

    @Test
    void loaderStreamsOnlyTheRandomLatentsWhenAskedForTheirSize() {
        DitRun r = DitRun.of("bench", "loader", "--latent-px", "256", "--rows", "300", "--iterations", "2");
        assertEquals(0, r.code(), r.all());
        // What dit prepare writes for latents (uncompressed), with the shards' size against the raw arrays.
        assertTrue(Pattern.compile("random latents 4x32x32 float16 \\(256 px\\), uncompressed: 300 rows, written in "
                + "[0-9.]+ s, [0-9.]+ MiB of shards \\(1\\.0[0-9] of the arrays' raw size\\)").matcher(r.out()).find(), r.all());
        assertTrue(!r.out().contains("Fashion-MNIST"), r.all());
        for (int run = 1; run <= 2; run++) {
            assertTrue(Pattern.compile("(?m)^  streamed, 1 stream, run " + run + ": [0-9.]+ s \\([0-9.]+ s CPU\\), +[0-9]+ "
                    + "samples/s, +[0-9]+ rows per CPU-second, .*CPU in the consumer's next\\(\\)").matcher(r.out())
                    .find(), r.all());
        }
        DitRun snappy = DitRun.of("bench", "loader", "--latent-px", "256", "--rows", "300", "--iterations", "1",
                "--codec", "snappy");
        assertEquals(0, snappy.code(), snappy.all());
        assertTrue(snappy.out().contains("(256 px), snappy: 300 rows"), snappy.all());
        DitRun badCodec = DitRun.of("bench", "loader", "--latent-px", "256", "--codec", "rar");
        assertEquals(2, badCodec.code(), badCodec.all());
        assertTrue(badCodec.err().contains("--codec: unknown or unavailable codec 'rar'; one of [uncompressed, snappy"),
                badCodec.all());
        DitRun lzo = DitRun.of("bench", "loader", "--latent-px", "256", "--codec", "lzo"); // Parquet names it, no library
        assertEquals(2, lzo.code(), lzo.all());
        assertTrue(lzo.err().contains("--codec: unknown or unavailable codec 'lzo'"), lzo.all());
        DitRun notLatents = DitRun.of("bench", "loader", "--codec", "zstd");
        assertEquals(2, notLatents.code(), notLatents.all());
        assertTrue(notLatents.err().contains("--codec: only with 'loader --latent-px'"), notLatents.all());
        DitRun bad = DitRun.of("bench", "loader", "--latent-px", "100");
        assertEquals(2, bad.code(), bad.all());
        assertTrue(bad.err().contains("--latent-px: image sides must be positive multiples of 8, got 100"), bad.all());
    }

    @Test
    void anUnknownMeasurementIsNamed() {
        DitRun r = DitRun.of("bench", "gpu");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("bench: model, step, fwdbwd, sample, memory, allreduce or loader, got gpu"), r.all());
    }
}
