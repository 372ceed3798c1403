package dev.ditspark.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The float64 schedule and its respacings against the reference's {@code sched.*} and {@code respace.*}. */
class NoiseScheduleTest {
    /** Relative to each array's largest magnitude; float64 arithmetic in the same order (log may differ by ulps). */
    private static final double SCHEDULE_TOLERANCE = 1e-14;

    /** max |a − e| / max |e|, float64. */
    static double relativeError(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            double d = Math.abs(actual[i] - expected[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst / scale;
    }

    @Test
    void linearScheduleMatchesTheReference() throws Exception {
        NoiseSchedule s = NoiseSchedule.linear();
        Map<String, Function<NoiseSchedule, double[]>> arrays = Map.of(
                "betas", NoiseSchedule::betas,
                "alphas_cumprod", NoiseSchedule::alphasCumprod,
                "alphas_cumprod_prev", NoiseSchedule::alphasCumprodPrev,
                "posterior_variance", NoiseSchedule::posteriorVariance,
                "posterior_log_variance_clipped", NoiseSchedule::posteriorLogVarianceClipped,
                "posterior_mean_coef1", NoiseSchedule::posteriorMeanCoef1,
                "posterior_mean_coef2", NoiseSchedule::posteriorMeanCoef2);
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors")) {
            for (Map.Entry<String, Function<NoiseSchedule, double[]>> e : arrays.entrySet()) {
                double err = relativeError(f.readFloat64("sched." + e.getKey()), e.getValue().apply(s));
                System.out.printf("sched.%s: max relative error %.3g%n", e.getKey(), err);
                assertTrue(err <= SCHEDULE_TOLERANCE, e.getKey() + ": " + err);
            }
        }
        assertEquals(1000, s.numTimesteps());
        assertEquals(1e-4, s.betas()[0]);
        assertEquals(0.02, s.betas()[999]);
        assertEquals(1.0, s.alphasCumprodPrev()[0]);
        // "clipped": element 0 is element 1
        assertEquals(s.posteriorLogVarianceClipped()[1], s.posteriorLogVarianceClipped()[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"250", "ddim50", "10", "ddim10"})
    void respacedChainsMatchTheReference(String spec) throws Exception {
        NoiseSchedule base = NoiseSchedule.linear();
        TimestepSpacing spacing = TimestepSpacing.parse(spec, 1000);
        NoiseSchedule spaced = base.respace(spacing);
        try (SafetensorsFile f = Fixtures.open("diffusion.safetensors")) {
            long[] kept = f.readInt64("respace." + spec + ".timesteps");
            assertArrayEquals(kept, spacing.keptSteps(), spec + " timesteps");
            assertArrayEquals(kept, spaced.timestepMap(), spec + " timestep map");
            double err = relativeError(f.readFloat64("respace." + spec + ".betas"), spaced.betas());
            System.out.printf("respace.%s.betas: max relative error %.3g%n", spec, err);
            assertTrue(err <= SCHEDULE_TOLERANCE, spec + " betas: " + err);
        }
    }

    @Test
    void respacedChainKeepsTheCumulativeProductOfTheKeptSteps() {
        NoiseSchedule base = NoiseSchedule.linear();
        NoiseSchedule spaced = base.respace(TimestepSpacing.parse("ddim50", 1000));
        double[] full = base.alphasCumprod();
        double[] kept = spaced.alphasCumprod();
        long[] map = spaced.timestepMap();
        for (int k = 0; k < kept.length; k++) {
            assertEquals(full[(int) map[k]], kept[k], 1e-14, "ᾱ at kept step " + map[k]);
        }
    }

    @Test
    void fixedLargeVarianceIsBetaExceptAtStepZero() {
        NoiseSchedule s = NoiseSchedule.linear();
        assertEquals(s.posteriorVariance()[1], s.fixedLargeVariance()[0]);
        assertEquals(s.betas()[500], s.fixedLargeVariance()[500]);
        assertEquals(Math.log(s.betas()[999]), s.fixedLargeLogVariance()[999], 1e-15);
    }
}
