package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A full training iteration (backward, finite check, AdamW step, EMA update) leaves nothing on the model's manager. */
class TrainingStepLeakTest {

    @Test
    void fiftyStepsDoNotGrowTheModelManager() {
        try (NDManager manager = TorchEngine.newManager()) {
            DiT model = new DiT(new DiTConfig(8, 2, 4, 32, 2, 4, 4.0, 0.1, 10, true, Conditioning.ADALN_ZERO));
            model.initialize(manager, new SplittableRandom(1));
            try (AdamW opt = new AdamW(model, AdamWConfig.paperDefaults()); Ema ema = new Ema(model)) {
                int before = manager.getManagedArrays().size();
                float[] first = null;
                for (int i = 0; i < 50; i++) {
                    opt.zeroGradients();
                    try (NDManager step = manager.newSubManager()) {
                        NDArray x = step.randomNormal(new Shape(2, 4, 8, 8));
                        NDArray t = step.create(new long[] {i, 999 - i});
                        NDArray y = step.create(new long[] {i % 10, 10});
                        try (GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
                            NDArray out = model.forward(x, t, y);
                            gc.backward(out.mul(out.duplicate().stopGradient()).sum().add(out.sum()));
                        }
                    }
                    assertTrue(opt.allGradientsFinite());
                    opt.step();
                    ema.update();
                    if (i == 0) {
                        first = model.namedParameters().get("final_layer.linear.weight").value().toFloatArray();
                    }
                }
                assertEquals(50, opt.stepCount());
                assertEquals(before, manager.getManagedArrays().size(), "arrays on the model's manager");
                float[] last = model.namedParameters().get("final_layer.linear.weight").value().toFloatArray();
                assertTrue(!Arrays.equals(first, last), "training moved the weights");
            }
        }
    }
}
