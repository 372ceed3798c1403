package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.ditspark.core.engine.FusedOps;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.testing.Fixtures;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EmaTest {

    @Test
    void startsEqualToTheWeightsIncludingFixedOnes() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 5);
            try (Ema ema = new Ema(model)) {
                assertEquals(Ema.PAPER_DECAY, ema.decay());
                assertEquals(model.namedParameters().keySet(), ema.weights().keySet());
                model.namedParameters().forEach((name, p) -> {
                    NDArray copy = ema.weights().get(name);
                    assertNotSame(p.value(), copy);
                    assertFalse(JniUtils.requiresGrad((PtNDArray) copy), name + " copy takes no gradient");
                    assertArrayEquals(p.value().toFloatArray(), copy.toFloatArray(), 0f, name);
                });
                assertArrayEquals(ToyModel.FIXED, ema.weights().get("pos").toFloatArray(), 0f);
            }
            // Even when made with autograd recording, the copies are plain tensors.
            try (GradientCollector gc = TorchEngine.engine().newGradientCollector(); Ema ema = new Ema(model)) {
                model.namedParameters().forEach((name, p) -> {
                    assertEquals(p.trainable(), JniUtils.requiresGrad((PtNDArray) p.value()), name);
                    assertFalse(JniUtils.requiresGrad((PtNDArray) ema.weights().get(name)), name);
                });
            }
        }
    }

    /** Hand-computed: θ₀ = 1 everywhere, then θ = 3: ema₁ = 0.9999 + 0.0003 = 1.0002, ema₂ = 1.0002·0.9999 + 0.0003. */
    @Test
    void paperDecayByHand() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 6);
            Parameter p1 = model.namedParameters().get("p1");
            p1.set(manager.ones(p1.shape()));
            try (Ema ema = new Ema(model)) {
                p1.set(manager.full(p1.shape(), 3f));
                ema.update();
                for (float v : ema.weights().get("p1").toFloatArray()) {
                    assertEquals(1.0002, v, 1e-7);
                }
                ema.update();
                for (float v : ema.weights().get("p1").toFloatArray()) {
                    assertEquals(1.00039998, v, 1e-7);
                }
            }
        }
    }

    /** ema ← d·ema + (1 − d)·θ over a few updates with moving weights, against a float64 recursion. */
    @Test
    void followsTheFormulaInFloat64() {
        for (double decay : new double[] {Ema.PAPER_DECAY, 0.9, 0.5}) {
            try (NDManager manager = TorchEngine.newManager()) {
                ToyModel model = ToyModel.initialised(manager, 7);
                Ema ema = new Ema(model, decay);
                double[] expected = toDouble(ToyModel.values(model, "p0"));
                double[] fixed = toDouble(ToyModel.FIXED);
                SplittableRandom rng = new SplittableRandom(8);
                Parameter p0 = model.namedParameters().get("p0");
                for (int u = 0; u < 5; u++) {
                    float[] theta = new float[12];
                    for (int i = 0; i < theta.length; i++) {
                        theta[i] = (float) rng.nextGaussian();
                        expected[i] = decay * expected[i] + (1 - decay) * theta[i];
                    }
                    p0.set(manager.create(theta, p0.shape()));
                    ema.update();
                    Fixtures.assertClose(expected, toDouble(ema.weights().get("p0").toFloatArray()), 1e-6,
                            "decay " + decay + " update " + u);
                }
                // The fixed entry is averaged with itself, as the reference's update_ema does.
                Fixtures.assertClose(fixed, toDouble(ema.weights().get("pos").toFloatArray()), 1e-6, "pos");
            }
        }
    }

    /**
     * Warm-up by hand: θ₀ = 1, then θ = 3 from step 0 on. The decays are (1+t)/(10+t) = 0.1, 2/11, 0.25 for
     * t = 0, 1, 2, so ema = 3 − 2·Πd: 3 − 0.2 = 2.8, then 3 − 0.2·2/11 = 2.963636…, then 3 − (0.4/11)·0.25 =
     * 2.990909…, where the paper's constant 0.999 would still be 1.002, 1.003998, 1.005994.
     */
    @Test
    void warmupMovesTowardTheWeightsAsTheFormulaSays() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 6);
            Parameter p1 = model.namedParameters().get("p1");
            p1.set(manager.ones(p1.shape()));
            try (Ema ema = new Ema(model, 0.999, true)) {
                p1.set(manager.full(p1.shape(), 3f));
                double[] expected = {2.8, 3 - 0.4 / 11, 3 - 0.1 / 11};
                for (int t = 0; t < expected.length; t++) {
                    ema.update(t);
                    for (float v : ema.weights().get("p1").toFloatArray()) {
                        assertEquals(expected[t], v, 1e-6, "after step " + t);
                    }
                }
            }
        }
    }

    /** The schedule's values, its cap at the configured decay, and a resumed run continuing it at step t. */
    @Test
    void warmupScheduleAndResume() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 12);
            try (Ema warm = new Ema(model, 0.999, true); Ema constant = new Ema(model, 0.999)) {
                assertEquals(0.1, warm.decayAt(0), 1e-15);
                assertEquals(0.5, warm.decayAt(8), 1e-15);
                assertEquals(0.9, warm.decayAt(80), 1e-15);
                assertEquals(0.99, warm.decayAt(890), 1e-15);
                assertEquals(0.999, warm.decayAt(8990), 1e-12);
                assertEquals(0.999, warm.decayAt(1_000_000), 0.0, "capped at the configured decay");
                assertEquals(5000.0 / 5009.0, warm.decayAt(4999), 1e-15, "the last step of the demo");
                for (long t : new long[] {0, 8, 4999}) {
                    assertEquals(0.999, constant.decayAt(t), 0.0, "no warm-up: constant");
                }
                assertTrue(warm.warmup());
                assertFalse(constant.warmup());
                assertThrows(IllegalStateException.class, warm::update, "warm-up needs the step");
                assertThrows(IllegalArgumentException.class, () -> warm.decayAt(-1));
            }
            // Updating at steps 0..5 in one go equals 0..2, a reload of the EMA into a fresh one, then 3..5.
            Parameter p0 = model.namedParameters().get("p0");
            SplittableRandom rng = new SplittableRandom(13);
            float[][] thetas = new float[6][12];
            for (float[] th : thetas) {
                for (int i = 0; i < th.length; i++) {
                    th[i] = (float) rng.nextGaussian();
                }
            }
            float[] whole;
            try (Ema ema = new Ema(model, 0.999, true)) {
                for (int t = 0; t < 6; t++) {
                    p0.set(manager.create(thetas[t], p0.shape()));
                    ema.update(t);
                }
                whole = ema.weights().get("p0").toFloatArray();
            }
            p0.set(manager.create(ToyModel.values(ToyModel.initialised(manager, 12), "p0"), p0.shape()));
            try (Ema first = new Ema(model, 0.999, true)) {
                for (int t = 0; t < 3; t++) {
                    p0.set(manager.create(thetas[t], p0.shape()));
                    first.update(t);
                }
                try (Ema resumed = new Ema(model, 0.999, true)) {
                    resumed.load(first.weights());
                    for (int t = 3; t < 6; t++) {
                        p0.set(manager.create(thetas[t], p0.shape()));
                        resumed.update(t);
                    }
                    assertArrayEquals(whole, resumed.weights().get("p0").toFloatArray(), 0f);
                }
            }
        }
    }

    @Test
    void copyIntoPutsTheAverageIntoASamplingModel() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 9);
            Ema ema = new Ema(model, 0.5);
            Parameter p1 = model.namedParameters().get("p1");
            p1.set(manager.zeros(p1.shape()));
            ema.update();
            ToyModel sampler = ToyModel.initialised(manager, 10);
            NDArray before = sampler.namedParameters().get("p0").value();
            ema.copyInto(sampler);
            assertSame(before, sampler.namedParameters().get("p0").value(), "written in place");
            ema.weights().forEach((name, w) -> assertArrayEquals(w.toFloatArray(), ToyModel.values(sampler, name), 0f, name));
            assertArrayEquals(ToyModel.values(model, "p0"), ToyModel.values(sampler, "p0"), 0f, "p0 did not move");
        }
    }

    @Test
    void rejectsBadDecayAndMismatchedCheckpoints() {
        try (NDManager manager = TorchEngine.newManager()) {
            ToyModel model = ToyModel.initialised(manager, 11);
            for (double bad : new double[] {-0.1, 1.5, Double.NaN}) {
                String msg = assertThrows(IllegalArgumentException.class, () -> new Ema(model, bad)).getMessage();
                assertTrue(msg.contains("decay"), msg);
            }
            Ema ema = new Ema(model);
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> ema.load(Map.of("p0", manager.zeros(new Shape(4, 3))))).getMessage();
            assertTrue(msg.contains("p0: shape (4, 3)") && msg.contains("missing p1") && msg.contains("missing pos"), msg);
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** The fused foreach update (FusedOps.ema) and the composed per-tensor ops give bit-identical averages. */
    @Test
    void fusedAndComposedUpdatesAreBitIdentical() {
        float[][] results = new float[2][];
        for (int arm = 0; arm < 2; arm++) {
            FusedOps.setEnabled(arm == 0);
            try (NDManager manager = TorchEngine.newManager()) {
                assertEquals(arm == 0, FusedOps.available());
                ToyModel model = ToyModel.initialised(manager, 7);
                Ema ema = new Ema(model, Ema.PAPER_DECAY);
                SplittableRandom rng = new SplittableRandom(8);
                Parameter p0 = model.namedParameters().get("p0");
                for (int u = 0; u < 5; u++) {
                    float[] theta = new float[12];
                    for (int i = 0; i < theta.length; i++) {
                        theta[i] = (float) rng.nextGaussian();
                    }
                    p0.set(manager.create(theta, p0.shape()));
                    ema.update();
                }
                results[arm] = ema.weights().get("p0").toFloatArray();
            } finally {
                FusedOps.setEnabled(true);
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(results[1], results[0], 0f);
    }
}
