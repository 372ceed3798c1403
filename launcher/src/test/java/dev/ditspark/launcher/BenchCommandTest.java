package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code dit bench} prints real figures for each of its three measurements (the commands of docs/benchmarks.md). */
class BenchCommandTest {

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
    void anUnknownMeasurementIsNamed() {
        DitRun r = DitRun.of("bench", "gpu");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("bench: model, allreduce or loader, got gpu"), r.all());
    }
}
