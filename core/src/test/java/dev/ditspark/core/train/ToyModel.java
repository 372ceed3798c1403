package dev.ditspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.nn.Init;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import java.util.Map;
import java.util.SplittableRandom;

/** The AdamW fixture's two parameters, (3, 4) and (5,), plus a fixed entry standing in for pos_embed. */
final class ToyModel extends Module {
    static final float[] FIXED = {0.25f, -1.5f, 3.0f};

    ToyModel() {
        parameter("p0", Init.normal(1.0), 3, 4);
        parameter("p1", Init.normal(1.0), 5);
        fixed("pos", FIXED, 3);
    }

    static ToyModel initialised(NDManager manager, long seed) {
        ToyModel m = new ToyModel();
        m.initialize(manager, new SplittableRandom(seed));
        return m;
    }

    /** Makes each parameter's accumulated gradient exactly {@code grads[name]}: backward of Σ sum(g·θ). */
    static void setGradients(Module model, NDManager manager, Map<String, float[]> grads) {
        model.zeroGradients();
        try (NDManager scratch = manager.newSubManager();
                GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
            NDArray loss = null;
            for (Map.Entry<String, float[]> e : grads.entrySet()) {
                Parameter p = model.namedParameters().get(e.getKey());
                NDArray g = scratch.create(e.getValue(), p.shape());
                NDArray term = g.mul(p.value()).sum(); // d/dθ = g·1, exact
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
    }

    static float[] values(Module model, String name) {
        return model.namedParameters().get(name).value().toFloatArray();
    }
}
