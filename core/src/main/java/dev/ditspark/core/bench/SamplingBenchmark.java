package dev.ditspark.core.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.diffusion.TimestepSpacing;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleGenerator;
import java.util.SplittableRandom;

/**
 * Times reverse-diffusion steps through the real {@link SampleGenerator} ({@code dit sample}'s path: seeded
 * x_T, respaced DDPM chain, classifier-free guidance doubling the batch when cfg_scale > 1) on a randomly
 * initialised model. Each step is one guided forward without autograd plus the DDPM update; the first
 * {@code warmup} steps are not counted. Compared with tools/bench/torch_bench.py's {@code sample_loop}.
 */
public final class SamplingBenchmark {
    private SamplingBenchmark() {
    }

    /**
     * @param batch samples drawn (the model sees 2·batch when guided)
     * @param steps the respacing, e.g. "250" (DDPM 250) or "50"
     * @param cfgScale guidance scale (1 = none)
     */
    public static StepTimings run(DiTConfig cfg, int batch, String steps, double cfgScale, int warmup, Device device) {
        SampleSpec spec = new SampleSpec(steps, "ddpm", cfgScale, false, 0.0);
        int total = TimestepSpacing.parse("--steps", steps, 1000).size();
        if (warmup >= total) {
            throw new IllegalArgumentException("--warmup " + warmup + " leaves no timed step of " + total);
        }
        StepTimings.Clock clock = new StepTimings.Clock(warmup, total - warmup);
        try (NDManager manager = TorchEngine.newManager(device)) {
            DiT model = new DiT(cfg);
            model.initialize(manager, new SplittableRandom(0));
            long[] labels = new long[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = i % cfg.numClasses();
            }
            clock.start();
            new SampleGenerator(model, spec).generate(manager, labels, 0, batch, (done, all, t) -> clock.mark());
        }
        return clock.timings();
    }
}
