package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SamplingStepsTest {
    @Test
    void namesTheSamplerOnceAndCountsTheSteps() {
        assertEquals("DDIM 50 steps", SamplingSteps.describe("ddim", "ddim50"));
        assertEquals("DDPM 250 steps", SamplingSteps.describe("ddpm", "250"));
        assertEquals("DDIM 25 steps", SamplingSteps.describe("ddim", "25"));
    }

    @Test
    void keepsTheSpacingWhenTheCountAloneLosesIt() {
        assertEquals("DDPM 50 steps (ddim50 spacing)", SamplingSteps.describe("ddpm", "ddim50"));
        assertEquals("DDPM 25 steps (10,10,5 spacing)", SamplingSteps.describe("ddpm", "10,10,5"));
        assertEquals("DDPM steps 'x'", SamplingSteps.describe("ddpm", "x"));
    }
}
