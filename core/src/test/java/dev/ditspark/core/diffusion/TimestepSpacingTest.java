package dev.ditspark.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reference's space_timesteps: single and multi-section counts, ddimN, and bad specs. */
class TimestepSpacingTest {

    @Test
    void twoHundredFiftyStepsRunFromZeroToTheLastStep() {
        long[] kept = TimestepSpacing.parse("250", 1000).keptSteps();
        assertEquals(250, kept.length);
        assertArrayEquals(new long[] {0, 4, 8}, java.util.Arrays.copyOf(kept, 3));
        assertEquals(995, kept[248]);
        assertEquals(999, kept[249]);
    }

    @Test
    void ddimTakesEveryTOverNthStep() {
        assertArrayEquals(LongStream.range(0, 50).map(i -> 20 * i).toArray(),
                TimestepSpacing.parse("ddim50", 1000).keptSteps());
    }

    @Test
    void sectionsAreSpacedInsideThemselves() {
        // The reference's docstring example (300 steps, [10, 15, 20]), values from its space_timesteps.
        assertArrayEquals(new long[] {0, 11, 22, 33, 44, 55, 66, 77, 88, 99, 100, 107, 114, 121, 128, 135, 142, 149,
            157, 164, 171, 178, 185, 192, 199, 200, 205, 210, 216, 221, 226, 231, 236, 242, 247, 252, 257, 263, 268,
            273, 278, 283, 289, 294, 299}, TimestepSpacing.parse("10,15,20", 300).keptSteps());
        assertArrayEquals(new long[] {0, 37, 74, 111, 148, 185, 222, 259, 296, 333, 334, 371, 408, 445, 482, 518, 555,
            592, 629, 666, 667, 750, 833, 916, 999}, TimestepSpacing.parse("10,10,5", 1000).keptSteps());
    }

    @Test
    void theStrideIsSummedAsTheReferenceDoes() {
        // 10·(999/20) is 499.5 (round half to even: 500), the running sum is just below (499): the reference keeps 499.
        assertEquals(499, TimestepSpacing.parse("21", 1000).keptSteps()[10]);
    }

    @Test
    void emptyOrFullSpecKeepsEveryStep() {
        assertEquals(1000, TimestepSpacing.parse("", 1000).size());
        assertArrayEquals(LongStream.range(0, 1000).toArray(), TimestepSpacing.parse("1000", 1000).keptSteps());
        assertArrayEquals(new long[] {0}, TimestepSpacing.parse("1", 1000).keptSteps());
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "0", "-5", "1001", "ddim", "ddimx", "ddim0", "ddim3000", "ddim999", "10,,5", "250.5"})
    void badSpecsNameTheField(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TimestepSpacing.parse(spec, 1000));
        assertTrue(e.getMessage().startsWith("sampling_steps: "), e.getMessage());
        IllegalArgumentException named = assertThrows(IllegalArgumentException.class,
                () -> TimestepSpacing.parse("sample.steps", spec, 1000));
        assertTrue(named.getMessage().startsWith("sample.steps: "), named.getMessage());
    }
}
