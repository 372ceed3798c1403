package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 item 4: sample i's noise depends only on (seed, i), so a request sampled chunk by chunk (as a resumed
 * {@code dit sample} does) gives the same samples as one uninterrupted pass.
 */
class SampleGeneratorTest {
    private static final DiTConfig CFG = new DiTConfig(8, 4, 4, 32, 1, 2, 4.0, 0.1, 3, true, Conditioning.ADALN_ZERO);

    @Test
    void noiseOfSampleIDependsOnlyOnSeedAndI() {
        try (NDManager m = TorchEngine.newManager()) {
            Shape four = new Shape(4, 2, 3);
            float[] all = new PerSampleNoise(9, 0, 4).next(m, four).toFloatArray();
            float[] last2 = new PerSampleNoise(9, 2, 2).next(m, new Shape(2, 2, 3)).toFloatArray();
            assertArrayEquals(Arrays.copyOfRange(all, 12, 24), last2);
            // A guided batch [z; z] asks for 2n rows: the second half repeats the first.
            float[] doubled = new PerSampleNoise(9, 2, 2).next(m, new Shape(4, 2, 3)).toFloatArray();
            assertArrayEquals(last2, Arrays.copyOfRange(doubled, 0, 12));
            assertArrayEquals(last2, Arrays.copyOfRange(doubled, 12, 24));
            assertThrows(IllegalArgumentException.class, () -> new PerSampleNoise(9, 0, 2).next(m, new Shape(3, 1)));
            // Another seed, other noise.
            float[] other = new PerSampleNoise(10, 0, 4).next(m, four).toFloatArray();
            assertEquals(false, Arrays.equals(all, other));
        }
    }

    @Test
    void chunksSampledSeparatelyEqualOneUninterruptedPass() {
        try (NDManager m = TorchEngine.newManager()) {
            DiT model = new DiT(CFG);
            model.initialize(m, new Random(0));
            SampleGenerator g = new SampleGenerator(model, new SampleSpec("4", "ddpm", 4.0, false, 0.0));
            long[] labels = {0, 1, 2, 0, 1, 2};
            float[] whole = g.generate(m, labels, 5, 2, ProgressListener.NONE);
            int per = 4 * 8 * 8;
            for (int start : new int[] {4, 0, 2}) { // any order, each chunk on its own, as a resumed run
                NDArray x = g.sampleRange(m, labels, start, 2, 5, ProgressListener.NONE);
                assertArrayEquals(Arrays.copyOfRange(whole, start * per, (start + 2) * per), x.toFloatArray(),
                        "chunk at " + start);
            }
            // Another chunk size draws the same noise: equal up to float rounding of the batched model.
            float[] threes = g.generate(m, labels, 5, 3, ProgressListener.NONE);
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], threes[i], 1e-4, "element " + i);
            }
            assertThrows(IllegalArgumentException.class, () -> g.generate(m, labels, 5, 0, ProgressListener.NONE));
        }
    }
}
