package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;

/** A tiny pixel-space DiT run on real Fashion-MNIST rows, small enough for a Spark test to train in seconds. */
final class TinyRun {
    private TinyRun() {
    }

    /** 28×28 pixels in 7×7 patches (16 tokens), width 16, one block. */
    static RunConfig config(Path dir, String dataUri, String checkpointUri, List<String> overrides) {
        Path yaml = dir.resolve("run-" + Math.abs(checkpointUri.hashCode()) + ".yaml");
        try {
            Files.writeString(yaml, """
                    model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                    data: {uri: '%s'}
                    train: {global_batch: 8, max_steps: 4, lr: 1.0e-3, ema_decay: 0.9, log_every: 1, threads: 1, workers: 1}
                    checkpoint: {uri: '%s', every: 2, keep_last: 10}
                    collective: {backend: tcp, timeout_seconds: 20}
                    """.formatted(dataUri, checkpointUri));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return RunConfig.load(yaml, overrides);
    }

    /** Spark in this JVM with {@code slots} task slots; stage failures surface instead of hiding in retries. */
    static SparkConf localSpark(String master) {
        return DistributedTraining.defaults(new SparkConf()
                .setMaster(master)
                .setAppName("dit-spark-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
    }

    /** Every tensor of one file of a committed checkpoint. */
    static Map<String, float[]> tensors(String checkpointUri, Configuration conf, long step, String file) {
        CheckpointStore store = CheckpointStore.open(checkpointUri, conf);
        try (SafetensorsFile f = store.openTensors(step, file)) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (String name : f.names()) {
                out.put(name, f.readFloat32(name));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * max |a − b| ≤ rel · (the largest |a| of the whole file) for every tensor: float32 sums in another order
     * differ in the last bits, which a near-zero tensor (a zero-initialised adaLN bias after a few steps) would
     * turn into a large per-tensor ratio.
     */
    static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, double rel) {
        assertEquals(expected.keySet(), actual.keySet());
        double scale = 0;
        for (float[] x : expected.values()) {
            for (float v : x) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] x = e.getValue();
            float[] y = actual.get(e.getKey());
            double worst = 0;
            for (int i = 0; i < x.length; i++) {
                double d = Math.abs((double) x[i] - y[i]);
                worst = Double.isNaN(d) ? Double.NaN : Math.max(worst, d);
            }
            if (!(worst <= rel * scale)) {
                fail(String.format("%s: max |diff| %.3g > %.1g × largest weight %.3g", e.getKey(), worst, rel, scale));
            }
        }
    }
}
