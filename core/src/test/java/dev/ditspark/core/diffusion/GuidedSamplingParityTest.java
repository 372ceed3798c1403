package dev.ditspark.core.diffusion;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two 10-step guided loops of the reference ({@code loop.*}): the tiny DiT under {@code model.}, cfg 4.0
 * on the first 3 channels, the batch [x_T; x_T] with labels [y; null], one recorded noise draw per step.
 */
class GuidedSamplingParityTest {
    /**
     * Relative to the output's largest magnitude (a few hundred: the model is random). Ten float32 model
     * calls, each amplified by the guidance scale, against torch 1.13's kernels.
     */
    private static final double LOOP_TOLERANCE = 1e-5;

    @ParameterizedTest
    @CsvSource({"10, ddpm, loop.ddpm10_out", "ddim10, ddim, loop.ddim10_out"})
    void tenStepLoopMatchesTheReference(String spacing, String kind, String key) throws Exception {
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            DiT model = loadModel(f, m);
            double scale = Double.parseDouble(f.metadata().get("loop_cfg_scale"));
            GaussianDiffusion diffusion = GaussianDiffusion.linear(spacing);
            NDArray xT = StateDict.read(f, "loop.x_T", m);
            long[] y = f.readInt64("loop.y");
            FixedNoise noise = FixedNoise.split(f.readFloat32("loop.noises"), 10);
            List<Long> calledWith = new ArrayList<>();
            Sampler sampler = kind.equals("ddpm") ? Sampler.ddpm() : Sampler.ddim(0.0);
            ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(model, scale);
            assertTrue(cfg.active());

            int before = m.getManagedArrays().size();
            NDArray out = cfg.sample(diffusion, xT, y, sampler, noise, (done, total, t) -> calledWith.add(t));

            float[] expected = f.readFloat32(key);
            float[] got = out.toFloatArray();
            System.out.printf("%s: max relative error %.3g (scale %.1f)%n", key,
                    GaussianDiffusionTest.relativeError(expected, got), max(expected));
            assertClose(expected, got, LOOP_TOLERANCE, key);
            assertEquals(new Shape(2, 4, 8, 8), out.getShape());

            // the model got the original steps, highest first, and every draw was used
            long[] kept = f.readInt64("respace." + spacing + ".timesteps");
            for (int k = 0; k < 10; k++) {
                assertEquals(kept[9 - k], calledWith.get(k), "step " + k);
            }
            assertEquals(0, noise.remaining());
            // only the result is left on the caller's manager, besides the coefficient tables uploaded once per
            // root manager (the (K, T) table and the original steps, plus DDIM's (3, T) weights), and x_T is intact
            int tables = kind.equals("ddpm") ? 2 : 3;
            assertEquals(before + 1 + tables, m.getManagedArrays().size(), "arrays left on the caller's manager");
            assertArrayEquals(f.readFloat32("loop.x_T"), xT.toFloatArray());
            // a second run reuses the tables: only its result is added
            NDArray again = cfg.sample(diffusion, xT, y, sampler, FixedNoise.split(f.readFloat32("loop.noises"), 10),
                    (done, total, t) -> { });
            assertArrayEquals(got, again.toFloatArray(), "the same samples from the same noise");
            assertEquals(before + 2 + tables, m.getManagedArrays().size(), "tables are uploaded once");
        }
    }

    @Test
    void guidedLoopThroughThePlainSampleApi() throws Exception {
        // The same DDPM loop written out with the helpers, as a caller would without ClassifierFreeGuidance.sample.
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            DiT model = loadModel(f, m);
            ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(model, 4.0, false);
            NDArray z = ClassifierFreeGuidance.doubledBatch(StateDict.read(f, "loop.x_T", m));
            NDArray labels = m.create(cfg.doubledLabels(f.readInt64("loop.y")));
            assertArrayEquals(new long[] {7, 2, 10, 10}, labels.toLongArray());
            NDArray x = GaussianDiffusion.linear("10").sample(cfg.denoiser(), z, labels, Sampler.ddpm(),
                    FixedNoise.split(f.readFloat32("loop.noises"), 10), ProgressListener.NONE);
            assertClose(f.readFloat32("loop.ddpm10_out"), ClassifierFreeGuidance.firstHalf(x).toFloatArray(),
                    LOOP_TOLERANCE, "ddpm10 via sample()");
        }
    }

    @Test
    void scaleOneSamplesTheConditionalModelWithoutDoubling() throws Exception {
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            DiT model = loadModel(f, m);
            ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(model, 1.0);
            assertFalse(cfg.active());
            NDArray xT = StateDict.read(f, "loop.x_T", m);
            long[] y = f.readInt64("loop.y");
            GaussianDiffusion diffusion = GaussianDiffusion.linear("ddim10");
            NDArray viaCfg = cfg.sample(diffusion, xT, y, Sampler.ddim(0), new SeededNoise(1), ProgressListener.NONE);
            NDArray direct = diffusion.sample(model::forward, xT, m.create(y), Sampler.ddim(0), new SeededNoise(1),
                    ProgressListener.NONE);
            assertArrayEquals(direct.toFloatArray(), viaCfg.toFloatArray());
            assertEquals(new Shape(2, 4, 8, 8), viaCfg.getShape());
        }
    }

    @Test
    void seededNoiseIsReproducibleAndFixedNoiseRunsOut() {
        try (NDManager m = TorchEngine.newManager()) {
            Shape s = new Shape(2, 3);
            assertArrayEquals(new SeededNoise(5).next(m, s).toFloatArray(), new SeededNoise(5).next(m, s).toFloatArray());
            FixedNoise fixed = FixedNoise.split(new float[12], 2);
            fixed.next(m, s);
            assertThrows(IllegalArgumentException.class, () -> fixed.next(m, new Shape(5)));
            fixed.next(m, s);
            assertThrows(IllegalStateException.class, () -> fixed.next(m, s));
        }
    }

    private static DiT loadModel(SafetensorsFile f, NDManager m) throws Exception {
        DiTConfig config = Fixtures.config(f, "loop_model_config");
        DiT model = new DiT(config);
        StateDict.load(model, f, m, "model.", Set.of());
        return model;
    }

    private static double max(float[] a) {
        double s = 0;
        for (float v : a) {
            s = Math.max(s, Math.abs(v));
        }
        return s;
    }
}
