package dev.ditspark.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Guards against DJL's freed-scalar autograd bug (the class comment of Functional): if any op kept a Java-owned scalar,
 * the garbage collection between the two passes would change the gradients.
 */
class DiTAutogradTest {

    private static DiTConfig tiny(Conditioning c) {
        return new DiTConfig(8, 2, 4, 32, 2, 4, 4.0, 0.1, 10, true, c);
    }

    /** Gradients of sum(out · w) for every trainable parameter, flattened in state_dict order. */
    private static List<float[]> gradients(DiT model, NDManager manager, boolean collectGarbage) {
        model.zeroGradients();
        try (NDManager step = manager.newSubManager()) {
            SplittableRandom rng = new SplittableRandom(7);
            float[] xs = new float[2 * 4 * 8 * 8];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rng.nextGaussian();
            }
            NDArray x = step.create(xs, new Shape(2, 4, 8, 8));
            NDArray t = step.create(new long[] {3, 999});
            NDArray y = step.create(new long[] {1, 10});
            try (GradientTape tape = GradientTape.record()) {
                NDArray out = model.forward(x, t, y);
                NDArray loss = out.mul(out.duplicate().stopGradient()).sum();
                if (collectGarbage) {
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        System.runFinalization();
                    }
                    // Churn the allocator so freed memory gets reused.
                    for (int i = 0; i < 50; i++) {
                        step.randomNormal(new Shape(1024, 64)).close();
                    }
                }
                tape.backward(loss);
            }
            List<float[]> grads = new ArrayList<>();
            for (Parameter p : model.namedParameters().values()) {
                if (p.trainable()) {
                    try (NDArray g = p.gradient()) {
                        grads.add(g.toFloatArray());
                    }
                }
            }
            return grads;
        }
    }

    @Test
    void twoIdenticalBackwardPassesGiveBitIdenticalGradients() {
        for (Conditioning c : Conditioning.values()) {
            try (NDManager manager = TorchEngine.newManager()) {
                DiT model = new DiT(tiny(c));
                // Random everything (zero-initialised pieces would hide most of the graph).
                model.initialize(manager, new SplittableRandom(1));
                for (Parameter p : model.namedParameters().values()) {
                    if (p.trainable()) {
                        p.set(manager.randomNormal(0f, 0.2f, p.shape(), p.value().getDataType()));
                    }
                }
                List<float[]> first = gradients(model, manager, false);
                List<float[]> second = gradients(model, manager, true);
                assertEquals(first.size(), second.size());
                double norm = 0;
                for (int i = 0; i < first.size(); i++) {
                    assertArrayEquals(first.get(i), second.get(i), 0f, c + " gradient " + i);
                    for (float g : first.get(i)) {
                        norm += g * g;
                    }
                }
                assertTrue(norm > 0, "gradients must not all be zero");
            }
        }
    }

    @Test
    void forwardShapesAndIdentityAtInitialisation() {
        try (NDManager manager = TorchEngine.newManager()) {
            DiTConfig cfg = tiny(Conditioning.ADALN_ZERO);
            DiT model = new DiT(cfg);
            model.initialize(manager, new SplittableRandom(3));
            try (NDManager step = manager.newSubManager()) {
                NDArray x = step.randomNormal(new Shape(3, 4, 8, 8));
                NDArray out = model.forward(x, step.create(new long[] {0, 500, 999}), step.create(new long[] {0, 9, 10}));
                assertEquals(new Shape(3, 8, 8, 8), out.getShape());
                // adaLN-Zero and a zero final linear: the untrained model outputs exactly zero.
                assertEquals(0f, out.abs().max().getFloat());
                NDArray guided = model.forwardWithCfg(x.get(":2").concat(x.get(":2"), 0), step.create(new long[] {5, 5, 5, 5}),
                        step.create(new long[] {1, 2, 10, 10}), 4.0, false);
                assertEquals(new Shape(4, 8, 8, 8), guided.getShape());
            }
        }
    }

    /**
     * Each embedder, block and the final layer run in their own scope, so a forward leaves only its output in
     * the caller's manager (with and without autograd recording), and backward still reaches every parameter.
     */
    @Test
    void aForwardLeavesOnlyItsOutputInTheCallersManager() {
        for (Conditioning c : Conditioning.values()) {
            try (NDManager manager = TorchEngine.newManager()) {
                DiT model = new DiT(tiny(c));
                model.initialize(manager, new SplittableRandom(1));
                for (boolean record : new boolean[] {false, true}) {
                    try (NDManager step = manager.newSubManager()) {
                        NDArray x = step.randomNormal(new Shape(2, 4, 8, 8));
                        NDArray t = step.create(new long[] {3, 999});
                        NDArray y = step.create(new long[] {1, 10});
                        int before = step.getManagedArrays().size();
                        NDArray out;
                        if (record) {
                            try (dev.ditspark.core.engine.GradientTape tape = dev.ditspark.core.engine.GradientTape.record()) {
                                out = model.forward(x, t, y);
                                assertEquals(before + 1, step.getManagedArrays().size(), c + " recording");
                                tape.backward(out.sum());
                            }
                            for (Parameter p : model.namedParameters().values()) {
                                if (p.trainable()) {
                                    try (NDArray g = p.gradient()) {
                                        assertTrue(g != null, c + " " + p.name() + " has no gradient");
                                    }
                                }
                            }
                            model.zeroGradients();
                        } else {
                            try (dev.ditspark.core.engine.NoGrad off = dev.ditspark.core.engine.NoGrad.enter()) {
                                out = model.forward(x, t, y);
                                assertEquals(before + 1, step.getManagedArrays().size(), c + " no grad");
                                model.forwardWithCfg(x, t, step.create(new long[] {1, 10}), 4.0, false);
                                assertEquals(before + 3, step.getManagedArrays().size(), c + " guided");
                            }
                        }
                        assertEquals(step, out.getManager());
                        assertEquals(new Shape(2, 8, 8, 8), out.getShape());
                    }
                }
            }
        }
    }
}
