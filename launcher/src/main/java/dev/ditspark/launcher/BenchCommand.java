package dev.ditspark.launcher;

import ai.djl.Device;
import dev.ditspark.core.bench.ForwardBackwardBenchmark;
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

/** {@code dit bench model}: forward and forward+backward throughput of DiT configurations on this machine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure DiT forward and forward+backward throughput (random weights and inputs).")
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

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
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (gpu == null) {
            TorchEngine.setThreads(t);
        }
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        out.printf(Locale.ROOT, "device %s, threads %d, batch %d, image %d px, median of %d%n", device, t, batch,
                imageSize, iterations);
        out.printf(Locale.ROOT, "%-9s %12s %12s %12s %12s %10s%n", "model", "fwd s/step", "fwd img/s", "train s/step",
                "train img/s", "GMAC/s");
        out.flush();
        for (String name : models) {
            var r = ForwardBackwardBenchmark.run(DiTConfig.named(name.trim(), imageSize), batch, warmup, iterations,
                    device);
            out.printf(Locale.ROOT, "%-9s %12.3f %12.2f %12.3f %12.2f %10.1f%n", name.trim(), r.forwardSeconds(),
                    r.forwardImagesPerSecond(), r.trainSeconds(), r.trainImagesPerSecond(), r.trainGmacsPerSecond());
            out.flush();
        }
        return 0;
    }
}
