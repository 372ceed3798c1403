package dev.ditspark.core.engine;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.nn.Functional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The fused TorchScript ops against the composed tensor-op versions they replace, forward and gradients. The
 * whole-model comparison with the PyTorch reference (fused and composed) is DiTReferenceParityTest's.
 */
class FusedOpsTest {
    private static final double TOLERANCE = 2e-6;

    @Test
    void theBundledModuleLoads() {
        assertTrue(FusedOps.available(), "fused_ops.pt must load with the bundled libtorch");
    }

    @Test
    void geluTanhMatchesTheComposedFormForwardAndBackward() {
        try (NDManager m = TorchEngine.newManager()) {
            NDArray x = m.randomNormal(0f, 3f, new Shape(4, 9, 33), ai.djl.ndarray.types.DataType.FLOAT32);
            NDArray w = m.randomNormal(new Shape(4, 9, 33));
            float[][] fused = valueAndGrad(x, w, FusedOps::geluTanh);
            float[][] composed = valueAndGrad(x, w, Functional::geluTanhComposed);
            assertClose(composed[0], fused[0], TOLERANCE, "gelu forward");
            assertClose(composed[1], fused[1], TOLERANCE, "gelu gradient");
        }
    }

    @Test
    void attentionMatchesTheComposedFormOnStridedViewsForwardAndBackward() {
        try (NDManager m = TorchEngine.newManager()) {
            // As Attention.forward feeds it: q, k, v are strided views of one (3, N, heads, T, d) transpose.
            NDArray qkv = m.randomNormal(new Shape(2, 17, 3, 4, 8));
            NDArray w = m.randomNormal(new Shape(2, 4, 17, 8));
            float[][] fused = qkvGrad(qkv, w, true);
            float[][] composed = qkvGrad(qkv, w, false);
            assertClose(composed[0], fused[0], TOLERANCE, "attention forward");
            assertClose(composed[1], fused[1], TOLERANCE, "attention gradient");
        }
    }

    @Test
    void crossAttentionWithFewerKeysThanQueries() {
        try (NDManager m = TorchEngine.newManager()) {
            NDArray q = m.randomNormal(new Shape(2, 4, 17, 8));
            NDArray kv = m.randomNormal(new Shape(2, 2, 4, 2, 8));
            NDArray fused = FusedOps.attention(q, kv.get(0), kv.get(1));
            assertEquals(new Shape(2, 4, 17, 8), fused.getShape());
            assertClose(Functional.attentionComposed(q, kv.get(0), kv.get(1)).toFloatArray(), fused.toFloatArray(),
                    TOLERANCE, "cross-attention forward");
        }
    }

    @Test
    void underNoGradNothingIsRecordedAndResultsStayOnTheInputsManager() {
        try (NDManager m = TorchEngine.newManager(); NDManager step = m.newSubManager()) {
            NDArray x = step.randomNormal(new Shape(3, 5));
            x.setRequiresGradient(true);
            try (NoGrad ignored = NoGrad.enter()) {
                NDArray y = FusedOps.geluTanh(x);
                assertFalse(y.hasGradient(), "no graph under NoGrad");
                assertEquals(step, y.getManager());
            }
        }
    }

    @Test
    void switchedOffTheModelFallsBackToTheComposedPath() {
        FusedOps.setEnabled(false);
        try (NDManager m = TorchEngine.newManager()) {
            assertFalse(FusedOps.available());
            NDArray x = m.randomNormal(new Shape(6));
            assertClose(Functional.geluTanhComposed(x).toFloatArray(), Functional.geluTanh(x).toFloatArray(), 0,
                    "fallback");
        } finally {
            FusedOps.setEnabled(true);
        }
        assertTrue(FusedOps.available());
    }

    /** A missing or damaged module is refused (null and one warning), never an exception to the caller. */
    @Test
    void aMissingOrDamagedModuleIsRefusedWithoutThrowing() {
        assertTrue(FusedOps.tryLoad("no_such_module.pt") == null);
        // A resource that exists but is not a TorchScript archive (this class's own bytes).
        assertTrue(FusedOps.tryLoad("FusedOpsTest.class") == null);
        assertNotNull(FusedOps.tryLoad(FusedOps.RESOURCE));
    }

    /** f(x) and d sum(f(x)·w) / dx. */
    private static float[][] valueAndGrad(NDArray x0, NDArray w, Function<NDArray, NDArray> f) {
        try (NDManager step = x0.getManager().newSubManager()) {
            NDArray x = x0.duplicate();
            x.attach(step);
            x.setRequiresGradient(true);
            float[] value;
            try (GradientTape tape = GradientTape.record()) {
                NDArray y = f.apply(x);
                value = y.toFloatArray();
                tape.backward(y.mul(w).sum());
            }
            NDArray g = x.getGradient();
            assertNotNull(g);
            return new float[][] {value, g.toFloatArray()};
        }
    }

    private static float[][] qkvGrad(NDArray qkv0, NDArray w, boolean fused) {
        try (NDManager step = qkv0.getManager().newSubManager()) {
            NDArray qkv = qkv0.duplicate();
            qkv.attach(step);
            qkv.setRequiresGradient(true);
            float[] value;
            try (GradientTape tape = GradientTape.record()) {
                NDArray p = qkv.transpose(2, 0, 3, 1, 4);
                NDArray o = fused ? FusedOps.attention(p.get(0), p.get(1), p.get(2))
                        : Functional.attentionComposed(p.get(0), p.get(1), p.get(2));
                value = o.toFloatArray();
                tape.backward(o.mul(w).sum());
            }
            return new float[][] {value, qkv.getGradient().toFloatArray()};
        }
    }
}
