package dev.ditspark.core.diffusion;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import org.junit.jupiter.api.Test;

/** Loss terms and single reverse steps of the full chain against the reference ({@code loss.*}, {@code step.*}). */
class GaussianDiffusionTest {
    /** Relative to each tensor's largest magnitude (Fixtures.assertClose). */
    private static final double TOLERANCE = 1e-5;

    /** max |a − e| / max |e|, for the report. */
    static double relativeError(float[] expected, float[] actual) {
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
        }
        return worst / scale;
    }

    private static void check(SafetensorsFile f, String key, NDArray actual) throws Exception {
        float[] expected = f.readFloat32(key);
        float[] got = actual.toFloatArray();
        System.out.printf("%s: max relative error %.3g%n", key, relativeError(expected, got));
        assertClose(expected, got, TOLERANCE, key);
    }

    @Test
    void hybridLossMatchesTheReference() throws Exception {
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            NDArray x0 = StateDict.read(f, "loss.x0", m);
            long[] t = f.readInt64("loss.t");
            NDArray noise = StateDict.read(f, "loss.noise", m);
            NDArray output = StateDict.read(f, "loss.model_output", m);
            // (b) through a Denoiser: it must be called with x_t and the original steps
            LossTerms viaModel = diffusion.trainingLosses((x, tt, y) -> {
                assertArrayEquals(t, tt.toLongArray(), "the model gets the original steps");
                return output;
            }, x0, t, null, noise);
            check(f, "loss.x_t", viaModel.xT());
            // (a) from the output directly
            LossTerms terms = diffusion.lossTerms(output, x0, viaModel.xT(), t, noise);
            for (LossTerms l : new LossTerms[] {viaModel, terms}) {
                check(f, "loss.mse", l.mse());
                check(f, "loss.vb", l.vb());
                check(f, "loss.loss", l.loss());
                assertEquals(new Shape(6), l.loss().getShape());
            }
            float[] loss = f.readFloat32("loss.loss");
            double mean = 0;
            for (float v : loss) {
                mean += v / loss.length;
            }
            assertEquals(mean, terms.meanLoss().getFloat(), 1e-5 * Math.abs(mean));
        }
    }

    @Test
    void oneStepMatchesTheReference() throws Exception {
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            NDArray x = StateDict.read(f, "step.x_t", m);
            long[] t = f.readInt64("step.t");
            NDArray out = StateDict.read(f, "step.model_output", m);
            NDArray z = StateDict.read(f, "step.noise", m);
            MeanVariance p = diffusion.pMeanVariance(out, x, t);
            check(f, "step.mean", p.mean());
            check(f, "step.log_variance", p.logVariance());
            check(f, "step.pred_xstart", p.predXstart());
            check(f, "step.ddpm_sample", diffusion.ddpmStep(out, x, t, z));
            check(f, "step.ddim_sample", diffusion.ddimStep(out, x, t, z, 0.0));
            check(f, "step.ddim_sample_eta05", diffusion.ddimStep(out, x, t, z, 0.5));
            // the Sampler forms are the same steps
            assertArrayEquals(diffusion.ddimStep(out, x, t, z, 0.5).toFloatArray(),
                    Sampler.ddim(0.5).step(diffusion, out, x, t, z).toFloatArray());
            assertArrayEquals(diffusion.ddpmStep(out, x, t, z).toFloatArray(),
                    Sampler.ddpm().step(diffusion, out, x, t, z).toFloatArray());
        }
    }

    @Test
    void vbTrainsOnlyTheVarianceChannels() throws Exception {
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            NDArray x0 = StateDict.read(f, "loss.x0", m);
            long[] t = f.readInt64("loss.t"); // includes t = 0 (the NLL) and t > 0 (the KL)
            NDArray noise = StateDict.read(f, "loss.noise", m);
            NDArray output = StateDict.read(f, "loss.model_output", m);
            output.setRequiresGradient(true);
            try (GradientTape tape = GradientTape.record()) {
                LossTerms l = diffusion.trainingLosses((x, tt, y) -> output, x0, t, null, noise);
                tape.backward(l.vb().sum());
            }
            NDArray grad = output.getGradient();
            float epsGrad = grad.get(new NDIndex(":, :4")).abs().max().getFloat();
            float vGrad = grad.get(new NDIndex(":, 4:")).abs().max().getFloat();
            assertEquals(0f, epsGrad, "d vb / d ε̂ must be exactly zero (ε̂ detached)");
            assertTrue(vGrad > 0, "d vb / d v must not vanish");
            for (int i = 0; i < t.length; i++) {
                assertTrue(grad.get(new NDIndex("{}, 4:", i)).abs().max().getFloat() > 0, "sample " + i + " (t = " + t[i] + ")");
            }

            // and the full loss reaches ε̂ through the mse
            output.setRequiresGradient(true);
            try (GradientTape tape = GradientTape.record()) {
                tape.backward(diffusion.trainingLosses((x, tt, y) -> output, x0, t, null, noise).meanLoss());
            }
            assertTrue(output.getGradient().get(new NDIndex(":, :4")).abs().max().getFloat() > 0);
        }
    }

    @Test
    void lossGradientsDoNotDependOnGarbageCollection() throws Exception {
        // Guards the Number-scalar bug of DJL (the class comment of Functional): a freed scalar would change the second pass.
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors"); NDManager m = TorchEngine.newManager()) {
            float[][] grads = new float[2][];
            for (int pass = 0; pass < 2; pass++) {
                try (NDManager step = m.newSubManager()) {
                    NDArray x0 = StateDict.read(f, "loss.x0", step);
                    NDArray noise = StateDict.read(f, "loss.noise", step);
                    NDArray output = StateDict.read(f, "loss.model_output", step);
                    output.setRequiresGradient(true);
                    try (GradientTape tape = GradientTape.record()) {
                        NDArray loss = diffusion.trainingLosses((x, tt, y) -> output.mul(output.onesLike()), x0,
                                f.readInt64("loss.t"), null, noise).meanLoss();
                        if (pass == 1) {
                            for (int i = 0; i < 3; i++) {
                                System.gc();
                            }
                            for (int i = 0; i < 50; i++) {
                                step.randomNormal(new Shape(1024, 64)).close();
                            }
                        }
                        tape.backward(loss);
                    }
                    grads[pass] = output.getGradient().toFloatArray();
                }
            }
            assertArrayEquals(grads[0], grads[1], 0f);
        }
    }

    @Test
    void modelWithoutSigmaChannelsHasMseLossAndFixedLargeVariance() {
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        NoiseSchedule s = diffusion.schedule();
        try (NDManager m = TorchEngine.newManager()) {
            NDArray x0 = m.randomNormal(new Shape(2, 3, 4, 4));
            NDArray noise = m.randomNormal(new Shape(2, 3, 4, 4));
            NDArray out = m.randomNormal(new Shape(2, 3, 4, 4));
            long[] t = {0, 700};
            LossTerms l = diffusion.trainingLosses((x, tt, y) -> out, x0, t, null, noise);
            assertArrayEquals(l.mse().toFloatArray(), l.loss().toFloatArray());
            assertEquals(0f, l.vb().abs().max().getFloat());
            float expected = out.sub(noise).square().get(1).mean().getFloat();
            assertEquals(expected, l.mse().getFloat(1), 1e-6);

            MeanVariance p = diffusion.pMeanVariance(out, x0, t);
            assertArrayEquals(new float[] {(float) s.fixedLargeLogVariance()[0], (float) s.fixedLargeLogVariance()[700]},
                    p.logVariance().toFloatArray());
            MeanVariance small = new GaussianDiffusion(s, FixedVariance.SMALL).pMeanVariance(out, x0, t);
            assertArrayEquals(new float[] {(float) s.posteriorLogVarianceClipped()[0],
                (float) s.posteriorLogVarianceClipped()[700]}, small.logVariance().toFloatArray());

            assertThrows(IllegalArgumentException.class,
                    () -> diffusion.pMeanVariance(m.zeros(new Shape(2, 5, 4, 4)), x0, t));
            assertThrows(IllegalArgumentException.class, () -> diffusion.qSample(x0, new long[] {0, 1000}, noise));
            assertThrows(IllegalArgumentException.class, () -> diffusion.qSample(x0, new long[] {0}, noise));
        }
    }

    @Test
    void qSampleMixesWithTheCumulativeAlpha() {
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        double[] acp = diffusion.schedule().alphasCumprod();
        try (NDManager m = TorchEngine.newManager()) {
            NDArray x0 = m.ones(new Shape(2, 1, 1, 1));
            NDArray noise = m.zeros(new Shape(2, 1, 1, 1));
            float[] xt = diffusion.qSample(x0, new long[] {0, 999}, noise).toFloatArray();
            assertEquals((float) Math.sqrt(acp[0]), xt[0]);
            assertEquals((float) Math.sqrt(acp[999]), xt[1]);
        }
    }
}
