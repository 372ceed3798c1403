package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ditspark.core.engine.FusedOps;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AdamWTest {
    private static final String[] NAMES = {"p0", "p1"};

    /**
     * torch.optim.AdamW (tools/reference adamw_fixture): both settings, 3 steps, parameters and both moments;
     * with the fused TorchScript update (torch._fused_adamw_) and with the composed per-parameter ops.
     */
    @ParameterizedTest(name = "fused={0}")
    @ValueSource(booleans = {true, false})
    void matchesTorchAdamWFixture(boolean fused) throws IOException {
        FusedOps.setEnabled(fused);
        try (SafetensorsFile f = Fixtures.open("adamw.safetensors"); NDManager manager = TorchEngine.newManager()) {
            assertEquals(fused, FusedOps.available());
            matchesTorchAdamWFixture(f, manager, fused);
        } finally {
            FusedOps.setEnabled(true);
        }
    }

    private void matchesTorchAdamWFixture(SafetensorsFile f, NDManager manager, boolean fused) throws IOException {
        {
            JsonNode settings = Fixtures.json(f.metadata().get("settings"));
            assertEquals(2, settings.size());
            double worst = 0;
            Map<String, Double> worstBy = new java.util.TreeMap<>();
            for (int s = 0; s < settings.size(); s++) {
                JsonNode hp = settings.get(s);
                AdamWConfig cfg = new AdamWConfig(hp.get("lr").asDouble(), hp.get("betas").get(0).asDouble(),
                        hp.get("betas").get(1).asDouble(), hp.get("eps").asDouble(), hp.get("weight_decay").asDouble());
                ToyModel model = ToyModel.initialised(manager, 0);
                for (int j = 0; j < 2; j++) {
                    model.namedParameters().get(NAMES[j]).set(StateDict.read(f, "s" + s + ".p" + j + ".init", manager));
                }
                try (AdamW opt = new AdamW(model, cfg)) {
                    for (int k = 1; k <= 3; k++) {
                        Map<String, float[]> grads = new LinkedHashMap<>();
                        for (int j = 0; j < 2; j++) {
                            grads.put(NAMES[j], f.readFloat32("s" + s + ".step" + k + ".p" + j + ".grad"));
                        }
                        ToyModel.setGradients(model, manager, grads);
                        opt.step();
                        assertEquals(k, opt.stepCount());
                        for (int j = 0; j < 2; j++) {
                            String key = "s" + s + ".step" + k + ".p" + j + ".";
                            Map<String, float[]> got = Map.of("param", ToyModel.values(model, NAMES[j]),
                                    "exp_avg", opt.state().get("exp_avg." + NAMES[j]).toFloatArray(),
                                    "exp_avg_sq", opt.state().get("exp_avg_sq." + NAMES[j]).toFloatArray());
                            for (Map.Entry<String, float[]> e : got.entrySet()) {
                                double err = check(f, key + e.getKey(), e.getValue());
                                worstBy.merge("s" + s + " " + e.getKey(), err, Math::max);
                                worst = Math.max(worst, err);
                            }
                        }
                    }
                }
            }
            worstBy.forEach((k, v) -> System.out.printf("AdamW (fused %s) vs torch fixture %-14s max|diff|/max|expected| = %.3g%n",
                    fused, k, v));
            System.out.printf("AdamW (fused %s) vs torch fixture: worst %.3g%n", fused, worst);
        }
    }

    /** Relative error max|diff| / max|expected|, asserted ≤ 1e-6. */
    private static double check(SafetensorsFile f, String key, float[] actual) throws IOException {
        float[] expected = f.readFloat32(key);
        Fixtures.assertClose(expected, actual, 1e-6, key);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs((double) actual[i] - expected[i]));
        }
        return diff / scale;
    }

    private static Map<String, float[]> randomGradients(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> g = new LinkedHashMap<>();
        g.put("p0", gaussian(rng, 12));
        g.put("p1", gaussian(rng, 5));
        return g;
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * 0.1);
        }
        return a;
    }

    /** Checkpoint (weights, moments, step, EMA) through safetensors files, resume, and continue bit-identically. */
    @Test
    void resumeFromCheckpointIsBitIdentical(@TempDir Path dir) throws IOException {
        AdamWConfig cfg = new AdamWConfig(1e-2, 0.9, 0.999, 1e-8, 0.01);
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel a = ToyModel.initialised(manager, 11);
            AdamW optA = new AdamW(a, cfg);
            Ema emaA = new Ema(a, 0.9);
            for (int k = 1; k <= 3; k++) {
                ToyModel.setGradients(a, manager, randomGradients(k));
                optA.step();
                emaA.update();
            }
            Path weights = dir.resolve("model.safetensors");
            Path state = dir.resolve("train_state.safetensors");
            StateDict.write(a, weights, TensorDType.F32, Map.of());
            SafetensorsWriter w = new SafetensorsWriter(Map.of("step", Long.toString(optA.stepCount())));
            optA.state().forEach((k, v) -> w.add(k, TensorDType.F32, v.getShape().getShape(), v.toFloatArray()));
            emaA.weights().forEach((k, v) -> w.add("ema." + k, TensorDType.F32, v.getShape().getShape(), v.toFloatArray()));
            w.write(state);
            for (int k = 4; k <= 6; k++) {
                ToyModel.setGradients(a, manager, randomGradients(k));
                optA.step();
                emaA.update();
            }

            ToyModel b = new ToyModel();
            try (SafetensorsFile wf = SafetensorsFile.open(weights); SafetensorsFile sf = SafetensorsFile.open(state);
                    NDManager loaded = manager.newSubManager()) {
                StateDict.load(b, wf, manager);
                AdamW optB = new AdamW(b, cfg);
                Ema emaB = new Ema(b, 0.9);
                Map<String, NDArray> moments = new HashMap<>();
                Map<String, NDArray> ema = new HashMap<>();
                for (String key : sf.names()) {
                    NDArray t = StateDict.read(sf, key, loaded);
                    if (key.startsWith("ema.")) {
                        ema.put(key.substring(4), t);
                    } else {
                        moments.put(key, t);
                    }
                }
                optB.load(moments, Long.parseLong(sf.metadata().get("step")));
                emaB.load(ema);
                assertEquals(3, optB.stepCount());
                for (int k = 4; k <= 6; k++) {
                    ToyModel.setGradients(b, manager, randomGradients(k));
                    optB.step();
                    emaB.update();
                }
                assertEquals(optA.stepCount(), optB.stepCount());
                for (String n : NAMES) {
                    assertArrayEquals(ToyModel.values(a, n), ToyModel.values(b, n), 0f, n);
                }
                optA.state().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), optB.state().get(k).toFloatArray(), 0f, k));
                emaA.weights().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), emaB.weights().get(k).toFloatArray(), 0f, "ema " + k));
            }
        }
    }

    @Test
    void loadRejectsMismatchesNamingTheKey() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 1);
            AdamW opt = new AdamW(model, AdamWConfig.paperDefaults());
            Map<String, NDArray> good = new HashMap<>();
            opt.state().forEach((k, v) -> good.put(k, v.duplicate()));

            Map<String, NDArray> misshapen = new HashMap<>(good);
            misshapen.put("exp_avg_sq.p1", manager.zeros(new Shape(4)));
            String msg = assertThrows(IllegalArgumentException.class, () -> opt.load(misshapen, 3)).getMessage();
            assertTrue(msg.contains("exp_avg_sq.p1") && msg.contains("(4)"), msg);

            Map<String, NDArray> incomplete = new HashMap<>(good);
            incomplete.remove("exp_avg.p0");
            incomplete.put("exp_avg.pos", manager.zeros(new Shape(3)));
            msg = assertThrows(IllegalArgumentException.class, () -> opt.load(incomplete, 3)).getMessage();
            assertTrue(msg.contains("missing exp_avg.p0") && msg.contains("unexpected exp_avg.pos"), msg);

            msg = assertThrows(IllegalArgumentException.class, () -> opt.load(good, -1)).getMessage();
            assertTrue(msg.contains("step"), msg);
            assertEquals(0, opt.stepCount(), "a failed load changes nothing");
        }
    }

    @Test
    void missingGradientNamesTheParameterAndChangesNothing() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 2);
            AdamW opt = new AdamW(model, AdamWConfig.paperDefaults());
            float[] p0 = ToyModel.values(model, "p0");
            String msg = assertThrows(IllegalStateException.class, opt::step).getMessage();
            assertTrue(msg.contains("p0"), msg);
            // Only p0 gets a gradient: p1 is named now, and p0 was not updated.
            model.zeroGradients();
            ToyModel.setGradients(model, manager, Map.of("p0", new float[12]));
            msg = assertThrows(IllegalStateException.class, opt::step).getMessage();
            assertTrue(msg.contains("p1") && msg.contains("no gradient"), msg);
            assertArrayEquals(p0, ToyModel.values(model, "p0"), 0f);
            assertEquals(0, opt.stepCount());
            msg = assertThrows(IllegalStateException.class, opt::allGradientsFinite).getMessage();
            assertTrue(msg.contains("p1"), msg);
        }
    }

    @Test
    void optimisesOnlyTrainableParameters() {
        try (NDManager manager = TorchEngine.newManager()) {
            DiT dit = new DiT(new DiTConfig(8, 2, 4, 32, 2, 4, 4.0, 0.1, 10, true, Conditioning.ADALN_ZERO));
            dit.initialize(manager, new SplittableRandom(1));
            try (AdamW opt = new AdamW(dit, AdamWConfig.paperDefaults())) {
                assertFalse(opt.parameterNames().contains("pos_embed"));
                assertEquals(dit.namedParameters().size() - 1, opt.parameterNames().size());
                assertEquals(2 * opt.parameterNames().size(), opt.state().size());
            }
            ToyModel toy = ToyModel.initialised(manager, 3);
            assertEquals(List.of("p0", "p1"), new AdamW(toy, AdamWConfig.paperDefaults()).parameterNames());
        }
    }

    @Test
    void finiteCheckSeesNanAndBothInfinities() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 4);
            AdamW opt = new AdamW(model, AdamWConfig.paperDefaults());
            Map<String, float[]> grads = randomGradients(9);
            ToyModel.setGradients(model, manager, grads);
            assertTrue(opt.allGradientsFinite());
            float[] huge = grads.get("p1").clone();
            huge[0] = Float.MAX_VALUE;
            huge[1] = -Float.MAX_VALUE;
            ToyModel.setGradients(model, manager, Map.of("p0", grads.get("p0"), "p1", huge));
            assertTrue(opt.allGradientsFinite(), "large but finite");
            float[] overflowing = grads.get("p1").clone();
            overflowing[0] = Float.MAX_VALUE;
            overflowing[1] = Float.MAX_VALUE;
            ToyModel.setGradients(model, manager, Map.of("p0", grads.get("p0"), "p1", overflowing));
            try (NDManager tmp = manager.newSubManager()) {
                assertEquals(Float.POSITIVE_INFINITY, opt.gradientSum(tmp).getFloat(), "the fast sum overflows");
            }
            assertTrue(opt.allGradientsFinite(), "finite gradients whose sum overflows are finite (the exact check)");
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] g = grads.get("p0").clone();
                g[7] = bad;
                ToyModel.setGradients(model, manager, Map.of("p0", g, "p1", grads.get("p1")));
                assertFalse(opt.allGradientsFinite(), "gradient with " + bad);
                assertFalse(opt.allGradientsFiniteExact(), "gradient with " + bad);
                try (NDManager tmp = manager.newSubManager()) {
                    assertFalse(Float.isFinite(opt.gradientSum(tmp).getFloat()), "gradient sum with " + bad);
                }
            }
            float[] nan = grads.get("p0").clone();
            nan[3] = Float.NaN;
            ToyModel.setGradients(model, manager, Map.of("p0", nan, "p1", grads.get("p1")));
            assertFalse(opt.allGradientsFinite());
            float[] before = ToyModel.values(model, "p0");
            opt.zeroGradients();
            // zero_grad(set_to_none=True): the NaN goes with the gradient, the value stays.
            assertNull(dev.ditspark.core.engine.Gradients.of(model.namedParameters().get("p0").value()),
                    "zeroing drops the gradient");
            assertArrayEquals(before, ToyModel.values(model, "p0"), 0f);
            ToyModel.setGradients(model, manager, Map.of("p0", grads.get("p0"), "p1", grads.get("p1")));
            assertTrue(opt.allGradientsFinite(), "the next backward starts from no gradient, not from the NaN");
            try (NDArray g = model.namedParameters().get("p0").gradient()) {
                assertArrayEquals(grads.get("p0"), g.toFloatArray(), 0f);
            }
        }
    }

    @Test
    void paperDefaultsAndValidation() {
        AdamWConfig d = AdamWConfig.paperDefaults();
        assertEquals(new AdamWConfig(1e-4, 0.9, 0.999, 1e-8, 0.0), d);
        assertMessage("lr", () -> d.withLr(-1));
        assertMessage("lr", () -> d.withLr(Double.NaN));
        assertMessage("lr", () -> d.withLr(Double.POSITIVE_INFINITY));
        assertMessage("beta1", () -> new AdamWConfig(1e-4, 1.0, 0.999, 1e-8, 0));
        assertMessage("beta2", () -> new AdamWConfig(1e-4, 0.9, -0.1, 1e-8, 0));
        assertMessage("eps", () -> new AdamWConfig(1e-4, 0.9, 0.999, -1e-8, 0));
        assertMessage("weightDecay", () -> d.withWeightDecay(-0.01));
    }

    private static void assertMessage(String field, Runnable r) {
        String msg = assertThrows(IllegalArgumentException.class, r::run).getMessage();
        assertTrue(msg.contains("AdamWConfig." + field + " "), msg);
    }
}
