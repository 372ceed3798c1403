package dev.ditspark.core.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import java.util.SplittableRandom;

/**
 * Times the DiT forward pass alone and forward + backward (a training step without the optimizer) on random
 * inputs, and reports images/s and achieved GMAC/s. Prints figures; asserts nothing.
 */
public final class ForwardBackwardBenchmark {

    /** Seconds per iteration (median of the timed ones) and what they mean per image. */
    public record Result(DiTConfig config, int batch, double forwardSeconds, double trainSeconds, long forwardMacs) {
        public double forwardImagesPerSecond() {
            return batch / forwardSeconds;
        }

        public double trainImagesPerSecond() {
            return batch / trainSeconds;
        }

        /** Achieved forward+backward throughput, counting training as 3× the forward MACs. */
        public double trainGmacsPerSecond() {
            return 3.0 * forwardMacs * batch / trainSeconds / 1e9;
        }
    }

    private ForwardBackwardBenchmark() {
    }

    public static Result run(DiTConfig cfg, int batch, int warmup, int iterations, Device device) {
        try (NDManager manager = TorchEngine.newManager(device)) {
            DiT model = new DiT(cfg);
            model.initialize(manager, new SplittableRandom(0));
            double fwd = time(warmup, iterations, () -> step(model, manager, batch, false));
            double train = time(warmup, iterations, () -> step(model, manager, batch, true));
            return new Result(cfg, batch, fwd, train, model.forwardMacs());
        }
    }

    /**
     * Per-iteration wall and CPU times of forward + backward alone ({@code dit bench fwdbwd}, the side-by-side
     * driver's "forward+backward" case; loss = mean(out²) as in tools/bench/torch_bench.py).
     */
    public static StepTimings trainTimings(DiTConfig cfg, int batch, int warmup, int iterations, Device device) {
        try (NDManager manager = TorchEngine.newManager(device)) {
            DiT model = new DiT(cfg);
            model.initialize(manager, new SplittableRandom(0));
            StepTimings.Clock clock = new StepTimings.Clock(warmup, iterations);
            for (int i = 0; i < warmup + iterations; i++) {
                step(model, manager, batch, true);
                clock.mark();
            }
            return clock.timings();
        }
    }

    static void step(DiT model, NDManager manager, int batch, boolean backward) {
        DiTConfig cfg = model.config();
        try (NDManager step = manager.newSubManager()) {
            NDArray x = step.randomNormal(new Shape(batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()));
            NDArray t = step.randomInteger(0, 1000, new Shape(batch), ai.djl.ndarray.types.DataType.INT64);
            NDArray y = step.randomInteger(0, cfg.numClasses(), new Shape(batch), ai.djl.ndarray.types.DataType.INT64);
            if (backward) {
                model.zeroGradients();
                try (GradientTape tape = GradientTape.record()) { // the training step's backward path
                    NDArray out = model.forward(x, t, y);
                    NDArray loss = out.mul(out).mean();
                    tape.backward(loss);
                    // On a GPU backward only enqueues kernels: reading a value waits for the stream, backward included.
                    loss.getFloat();
                }
            } else {
                model.forward(x, t, y).toFloatArray(); // forces the computation on asynchronous devices
            }
        }
    }

    private static double time(int warmup, int iterations, Runnable r) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double[] s = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            r.run();
            s[i] = (System.nanoTime() - t0) / 1e9;
        }
        java.util.Arrays.sort(s);
        return s[iterations / 2];
    }
}
