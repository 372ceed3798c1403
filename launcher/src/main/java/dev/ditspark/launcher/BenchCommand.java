package dev.ditspark.launcher;

import ai.djl.Device;
import dev.ditspark.core.bench.AllreduceBenchmark;
import dev.ditspark.core.bench.ForwardBackwardBenchmark;
import dev.ditspark.core.bench.MemoryBenchmark;
import dev.ditspark.core.bench.SamplingBenchmark;
import dev.ditspark.core.bench.StepTimings;
import dev.ditspark.core.bench.TrainingStepBenchmark;
import dev.ditspark.core.bench.ShardReadBenchmark;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiTConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code dit bench}: figures for docs/benchmarks.md. {@code model} (default): DiT forward and forward+backward
 * throughput; {@code allreduce}: the tcp ring against a plain socket copy on loopback, and the ring model for
 * 8-64 GPUs; {@code loader}: how fast latent shards load (Fashion-MNIST in every dtype and codec).
 * {@code step}, {@code fwdbwd}, {@code sample} and {@code memory} are the dit-spark side of the side-by-side
 * benchmark with PyTorch (tools/bench/run.py): each prints one parseable {@code result case=...} line per case
 * with median per-step wall and process CPU time (memory: peak resident memory per batch and bytes per sample).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Measure this machine: model, step, fwdbwd, sample, memory, allreduce or loader.",
        description = {"Measure this machine: model (DiT forward and forward+backward throughput, random weights),",
            "step (whole training steps through the Trainer: hybrid loss, backward, AdamW, EMA),",
            "fwdbwd (forward+backward alone), sample (DDPM steps with guidance through the sampler),",
            "memory (peak resident memory of forward+backward, one fresh process per batch, and bytes per sample),",
            "allreduce (tcp ring vs socket copy on loopback, ring model for 8-64 GPUs), loader (shard reading: whole and streamed).",
            "step, fwdbwd, sample and memory print 'result case=...' lines: median wall and mean CPU seconds per step,",
            "and jit_s, the part of that CPU the JVM's JIT compiler threads used (start-up work a long run pays once;",
            "raise --warmup to shrink it; Linux only)."})
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Parameters(index = "0", defaultValue = "model", paramLabel = "WHAT",
            description = "model, step, fwdbwd, sample, memory, allreduce or loader (default: ${DEFAULT-VALUE}).")
    String what;

    @Option(names = "--sizes-mb", split = ",", defaultValue = "1,16,64", description = "allreduce: message sizes in MB.")
    int[] sizesMb;

    @Option(names = "--ranks", split = ",", defaultValue = "2,4", description = "allreduce: world sizes (threads).")
    int[] ranks;

    @Option(names = "--images", defaultValue = "60000", description = "loader: Fashion-MNIST images to write and read.")
    int images;

    @Option(names = "--memory-mb", defaultValue = "1024",
            description = "loader: the streaming reader's budget, as data.memory_mb (default: ${DEFAULT-VALUE}).")
    int memoryMb;

    @Option(names = "--latent-px", split = ",", paramLabel = "PX",
            description = "loader: only the random-latent streamed case at these image sides, e.g. 256,512 (rows/s and rows "
                    + "per CPU-second; --iterations timed epochs).")
    int[] latentPx;

    @Option(names = "--codec", paramLabel = "CODEC",
            description = "loader with --latent-px: the shards' page compression (uncompressed, snappy, zstd, gzip, ...; "
                    + "default: what dit prepare writes for latents, uncompressed).")
    String codec;

    @Option(names = "--rows", defaultValue = "0",
            description = "loader with --latent-px: rows to write (default: 500 MiB of arrays, 16000 at 256 px).")
    int rows;

    @Option(names = "--config", paramLabel = "YAML",
            description = "model: the model of this run config instead of --models, e.g. conf/demo.yaml.")
    java.nio.file.Path config;

    @Option(names = {"--models", "--model"}, split = ",", defaultValue = "DiT-S/8,DiT-S/4,DiT-S/2,DiT-B/8,DiT-B/4",
            description = "Comma-separated configurations (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--image-size", defaultValue = "256", description = "Image side in px (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--batch", split = ",", paramLabel = "N",
            description = "Images per step (default: 8; memory: 2,4, one fresh process each).")
    int[] batch;

    @Option(names = "--steps", defaultValue = "250",
            description = "sample: the respaced DDPM chain, e.g. 250 or 50 (default: ${DEFAULT-VALUE}).")
    String steps;

    @Option(names = "--cfg-scale", defaultValue = "4.0",
            description = "sample: classifier-free guidance scale, 1 = none (default: ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--iterations", defaultValue = "5", description = "Timed iterations; the median is reported.")
    int iterations;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed iterations first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: all cores).")
    Integer threads;

    @Mixin
    GpuOption gpu;

    @Override
    public Integer call() throws Exception {
        if (codec != null && !("loader".equals(what) && latentPx != null)) {
            throw new IllegalArgumentException("--codec: only with 'loader --latent-px' (the other cases write fixed codecs)");
        }
        switch (what) {
            case "model" -> {
                return model();
            }
            case "step", "fwdbwd", "sample" -> {
                return timed();
            }
            case "memory" -> {
                return memory();
            }
            case "allreduce" -> {
                AllreduceBenchmark.run(sizesMb, ranks, iterations, spec.commandLine().getOut());
                AllreduceBenchmark.printModel(spec.commandLine().getOut());
                spec.commandLine().getOut().flush();
                return 0;
            }
            case "loader" -> {
                if (latentPx != null) {
                    ShardReadBenchmark.runLatents(latentPx, rows, iterations, null, memoryMb, codec(), spec.commandLine().getOut());
                } else {
                    ShardReadBenchmark.run(images, iterations, null, memoryMb, spec.commandLine().getOut());
                }
                spec.commandLine().getOut().flush();
                return 0;
            }
            default -> throw new IllegalArgumentException(
                    "bench: model, step, fwdbwd, sample, memory, allreduce or loader, got " + what);
        }
    }

    /** The Parquet codecs this build writes and reads (LZO and Brotli need libraries it does not ship). */
    private static final java.util.List<org.apache.parquet.hadoop.metadata.CompressionCodecName> CODECS = java.util.List.of(
            org.apache.parquet.hadoop.metadata.CompressionCodecName.UNCOMPRESSED,
            org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY,
            org.apache.parquet.hadoop.metadata.CompressionCodecName.GZIP,
            org.apache.parquet.hadoop.metadata.CompressionCodecName.ZSTD,
            org.apache.parquet.hadoop.metadata.CompressionCodecName.LZ4,
            org.apache.parquet.hadoop.metadata.CompressionCodecName.LZ4_RAW);

    /** --codec as Parquet's codec name, or null for the writer's default for latents. */
    private org.apache.parquet.hadoop.metadata.CompressionCodecName codec() {
        if (codec == null) {
            return null;
        }
        for (var c : CODECS) {
            if (c.name().equalsIgnoreCase(codec)) {
                return c;
            }
        }
        throw new IllegalArgumentException("--codec: unknown or unavailable codec '" + codec + "'; one of "
                + CODECS.stream().map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toList());
    }

    private int threads() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }

    private int[] batches(String defaults) {
        int[] b = batch != null ? batch : java.util.Arrays.stream(defaults.split(",")).mapToInt(Integer::parseInt).toArray();
        for (int v : b) {
            if (v <= 0) {
                throw new IllegalArgumentException("--batch: sizes must be positive, got " + v);
            }
        }
        return b;
    }

    /** The models to measure, by label: the run config's model (its file name) or the named ones. */
    private java.util.Map<String, DiTConfig> configs() {
        java.util.Map<String, DiTConfig> configs = new java.util.LinkedHashMap<>();
        if (config != null) {
            configs.put(config.getFileName().toString(),
                    dev.ditspark.core.config.RunConfig.load(config, List.of()).model().toDiTConfig());
        } else {
            models.forEach(name -> configs.put(name.trim(), ModelOptions.named("--models", name.trim(), imageSize, 4, 1000)));
        }
        return configs;
    }

    /** step, fwdbwd, sample: one result line per model and batch, medians of per-step wall and CPU time. */
    private int timed() throws java.io.IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (gpu.gpu != null && !what.equals("fwdbwd")) {
            throw new IllegalArgumentException("--gpu: bench " + what + " runs on the CPU only");
        }
        int t = threads();
        Device device = gpu.device();
        if (gpu.gpu == null) {
            TorchEngine.setThreads(t);
        }
        for (var e : configs().entrySet()) {
            for (int b : batches("8")) {
                String[] labels = {"model=" + e.getKey(), "batch=" + b, "threads=" + t};
                StepTimings r = switch (what) {
                    case "step" -> trainingStep(e.getValue(), b, t);
                    case "fwdbwd" -> ForwardBackwardBenchmark.trainTimings(e.getValue(), b, warmup, iterations, device);
                    default -> SamplingBenchmark.run(e.getValue(), b, steps, cfgScale, warmup, device);
                };
                if (what.equals("sample")) {
                    labels = new String[] {labels[0], labels[1], labels[2], "ddpm=" + steps, "cfg=" + cfgScale};
                }
                out.println(r.line(what, labels));
                out.flush();
            }
        }
        return 0;
    }

    private StepTimings trainingStep(DiTConfig cfg, int b, int t) throws java.io.IOException {
        com.fasterxml.jackson.databind.node.ObjectNode tree = config != null
                ? (com.fasterxml.jackson.databind.node.ObjectNode) dev.ditspark.core.config.RunConfig.load(config, List.of()).toTree()
                : TrainingStepBenchmark.modelTree(cfg);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("dit-bench-step");
        try {
            return TrainingStepBenchmark.run(tree, b, warmup, iterations, t, dir);
        } finally {
            try (var paths = java.nio.file.Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** memory: peak resident memory of forward+backward per batch (fresh child processes) and the slope. */
    private int memory() throws java.io.IOException, InterruptedException {
        if (gpu.gpu != null) {
            throw new IllegalArgumentException("--gpu: bench memory measures the CPU process's resident memory only");
        }
        PrintWriter out = spec.commandLine().getOut();
        int t = threads();
        int[] bs = batches("2,4");
        for (var e : configs().entrySet()) {
            out.printf(Locale.ROOT, "%s forward+backward, threads %d: peak resident memory (VmHWM) of a fresh process per batch%n",
                    e.getKey(), t);
            out.printf(Locale.ROOT, "%6s %14s %14s%n", "batch", "after init MB", "peak MB");
            out.flush();
            List<MemoryBenchmark.Peak> peaks = MemoryBenchmark.measure(e.getValue(), bs, t);
            for (MemoryBenchmark.Peak p : peaks) {
                out.printf(Locale.ROOT, "%6d %14.1f %14.1f%n", p.batch(), p.afterInitBytes() / 1e6, p.peakBytes() / 1e6);
            }
            double slope = MemoryBenchmark.bytesPerSample(peaks);
            if (!Double.isNaN(slope)) {
                out.printf(Locale.ROOT, "activations: %.1f MB per sample (slope between batch %d and %d)%n", slope / 1e6,
                        peaks.get(0).batch(), peaks.get(peaks.size() - 1).batch());
            }
            for (MemoryBenchmark.Peak p : peaks) {
                out.printf(Locale.ROOT, "result case=memory model=%s batch=%d threads=%d init_mb=%.1f peak_mb=%.1f%n",
                        e.getKey(), p.batch(), t, p.afterInitBytes() / 1e6, p.peakBytes() / 1e6);
            }
            if (!Double.isNaN(slope)) {
                out.printf(Locale.ROOT, "result case=memory-per-sample model=%s threads=%d mb_per_sample=%.1f%n",
                        e.getKey(), t, slope / 1e6);
            }
            out.flush();
        }
        return 0;
    }

    private int model() {
        PrintWriter out = spec.commandLine().getOut();
        int[] bs = batches("8");
        if (bs.length != 1) {
            throw new IllegalArgumentException("--batch: bench model takes one batch size, got " + bs.length);
        }
        int batch = bs[0];
        int t = threads();
        if (gpu.gpu == null) {
            TorchEngine.setThreads(t);
        }
        Device device = gpu.device();
        out.printf(Locale.ROOT, "device %s, threads %d, batch %d, %s, median of %d%n", device, t, batch,
                config != null ? "the model of " + config : "image " + imageSize + " px", iterations);
        out.printf(Locale.ROOT, "%-9s %12s %12s %12s %12s %10s%n", "model", "fwd s/step", "fwd img/s", "train s/step",
                "train img/s", "GMAC/s");
        out.flush();
        configs().forEach((name, cfg) -> {
            var r = ForwardBackwardBenchmark.run(cfg, batch, warmup, iterations, device);
            out.printf(Locale.ROOT, "%-9s %12.3f %12.2f %12.3f %12.2f %10.1f%n", name, r.forwardSeconds(),
                    r.forwardImagesPerSecond(), r.trainSeconds(), r.trainImagesPerSecond(), r.trainGmacsPerSecond());
            out.flush();
        });
        return 0;
    }
}
