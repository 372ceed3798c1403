package dev.ditspark.core.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.Posterior;
import dev.ditspark.core.vae.VaeConfig;
import java.util.Locale;
import java.util.Random;

/**
 * Times the VAE encoder as {@code dit prepare} runs it (each image with its mirror, so 2·batch per forward) on
 * random weights and inputs: what the full-size KL-f8 costs per image on this machine. Prints figures.
 *
 * <pre>java -cp ... dev.ditspark.core.bench.VaeEncodeBenchmark [image size 256] [batch 2] [iterations 3] [threads]</pre>
 */
public final class VaeEncodeBenchmark {
    private VaeEncodeBenchmark() {
    }

    /** Images (each with its mirror) per second, median of {@code iterations} after one warm-up. */
    public static double imagesPerSecond(VaeConfig cfg, int size, int batch, int iterations, Device device) {
        try (NDManager m = TorchEngine.newManager(device)) {
            AutoencoderKL vae = new AutoencoderKL(cfg);
            vae.initialize(m, new Random(0));
            double[] t = new double[iterations];
            for (int i = -1; i < iterations; i++) {
                try (NDManager step = m.newSubManager()) {
                    var x = step.randomUniform(-1, 1, new Shape(2L * batch, 3, size, size));
                    long t0 = System.nanoTime();
                    Posterior p = vae.encode(x);
                    p.mean().toFloatArray();
                    p.std().toFloatArray();
                    if (i >= 0) {
                        t[i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
            java.util.Arrays.sort(t);
            return batch / t[iterations / 2];
        }
    }

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        if (args.length > 3) {
            TorchEngine.setThreads(Integer.parseInt(args[3]));
        }
        double ips = imagesPerSecond(VaeConfig.SD_KL_F8, size, batch, iterations, Device.cpu());
        System.out.printf(Locale.ROOT, "KL-f8 encoder, %d px, batch %d (+ mirrors), CPU: %.2f images/s (%.2f s per image)%n",
                size, batch, ips, 1 / ips);
    }
}
