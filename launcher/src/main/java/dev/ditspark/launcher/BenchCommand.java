package dev.ditspark.launcher;

import ai.djl.Device;
import dev.ditspark.core.bench.AllreduceBenchmark;
import dev.ditspark.core.bench.ForwardBackwardBenchmark;
import dev.ditspark.core.bench.ShardReadBenchmark;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiTConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code dit bench}: figures for docs/benchmarks.md. {@code model} (default): DiT forward and forward+backward
 * throughput; {@code allreduce}: the tcp ring against a plain socket copy on loopback, and the ring model for
 * 8-64 GPUs; {@code loader}: how fast latent shards load (Fashion-MNIST in every dtype and codec).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Measure this machine: model, allreduce or loader throughput.",
        description = {"Measure this machine: model (DiT forward and forward+backward throughput, random weights),",
            "allreduce (tcp ring vs socket copy on loopback, ring model for 8-64 GPUs), loader (shard reading)."})
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Parameters(index = "0", defaultValue = "model", paramLabel = "WHAT",
            description = "model, allreduce or loader (default: ${DEFAULT-VALUE}).")
    String what;

    @Option(names = "--sizes-mb", split = ",", defaultValue = "1,16,64", description = "allreduce: message sizes in MB.")
    int[] sizesMb;

    @Option(names = "--ranks", split = ",", defaultValue = "2,4", description = "allreduce: world sizes (threads).")
    int[] ranks;

    @Option(names = "--images", defaultValue = "60000", description = "loader: Fashion-MNIST images to write and read.")
    int images;

    @Option(names = "--config", paramLabel = "YAML",
            description = "model: the model of this run config instead of --models, e.g. conf/demo.yaml.")
    java.nio.file.Path config;

    @Option(names = "--models", split = ",", defaultValue = "DiT-S/8,DiT-S/4,DiT-S/2,DiT-B/8,DiT-B/4",
            description = "Comma-separated configurations (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--image-size", defaultValue = "256", description = "Image side in px (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--batch", defaultValue = "8", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--iterations", defaultValue = "5", description = "Timed iterations; the median is reported.")
    int iterations;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed iterations first.")
    int warmup;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: all cores).")
    Integer threads;

    @Option(names = "--gpu", description = "Run on this CUDA device index instead of the CPU.")
    Integer gpu;

    @Override
    public Integer call() throws Exception {
        switch (what) {
            case "model" -> {
                return model();
            }
            case "allreduce" -> {
                // The benchmark prints to a PrintStream; this command prints to picocli's writer.
                java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
                try (java.io.PrintStream ps = new java.io.PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8)) {
                    AllreduceBenchmark.run(sizesMb, ranks, iterations, ps);
                    AllreduceBenchmark.printModel(ps);
                }
                spec.commandLine().getOut().print(text.toString(java.nio.charset.StandardCharsets.UTF_8));
                spec.commandLine().getOut().flush();
                return 0;
            }
            case "loader" -> {
                ShardReadBenchmark.main(new String[] {Integer.toString(images), Integer.toString(iterations)});
                return 0;
            }
            default -> throw new IllegalArgumentException("bench: model, allreduce or loader, got " + what);
        }
    }

    private int model() {
        PrintWriter out = spec.commandLine().getOut();
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (gpu == null) {
            TorchEngine.setThreads(t);
        }
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        out.printf(Locale.ROOT, "device %s, threads %d, batch %d, %s, median of %d%n", device, t, batch,
                config != null ? "the model of " + config : "image " + imageSize + " px", iterations);
        out.printf(Locale.ROOT, "%-9s %12s %12s %12s %12s %10s%n", "model", "fwd s/step", "fwd img/s", "train s/step",
                "train img/s", "GMAC/s");
        out.flush();
        java.util.Map<String, DiTConfig> configs = new java.util.LinkedHashMap<>();
        if (config != null) {
            configs.put(config.getFileName().toString(),
                    dev.ditspark.core.config.RunConfig.load(config, List.of()).model().toDiTConfig());
        } else {
            models.forEach(name -> configs.put(name.trim(), ModelOptions.named("--models", name.trim(), imageSize, 4, 1000)));
        }
        configs.forEach((name, cfg) -> {
            var r = ForwardBackwardBenchmark.run(cfg, batch, warmup, iterations, device);
            out.printf(Locale.ROOT, "%-9s %12.3f %12.2f %12.3f %12.2f %10.1f%n", name, r.forwardSeconds(),
                    r.forwardImagesPerSecond(), r.trainSeconds(), r.trainImagesPerSecond(), r.trainGmacsPerSecond());
            out.flush();
        });
        return 0;
    }
}
