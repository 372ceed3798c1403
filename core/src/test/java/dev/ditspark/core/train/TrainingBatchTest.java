package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.data.LatentSubset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** train.horizontal_flip: the paper's random mirror, and the demo's data drawn without it. */
class TrainingBatchTest {

    private static final int N = 64;
    private static final int SIDE = 4;

    /** Pixel rows as the Fashion-MNIST import writes them: std 0, the mirror image as the flipped view. */
    private static LatentSubset.Sample[] samples() {
        LatentSubset.Sample[] s = new LatentSubset.Sample[N];
        for (int i = 0; i < N; i++) {
            float[] img = new float[SIDE * SIDE];
            float[] mirror = new float[SIDE * SIDE];
            for (int r = 0; r < SIDE; r++) {
                for (int c = 0; c < SIDE; c++) {
                    img[r * SIDE + c] = i + 0.01f * (r * SIDE + c);
                }
            }
            for (int r = 0; r < SIDE; r++) {
                for (int c = 0; c < SIDE; c++) {
                    mirror[r * SIDE + c] = img[r * SIDE + SIDE - 1 - c];
                }
            }
            s[i] = new LatentSubset.Sample(i % 10, img, new float[SIDE * SIDE], mirror, new float[SIDE * SIDE]);
        }
        return s;
    }

    private static TrainingBatch draw(LatentSubset.Sample[] s, boolean flip) {
        long[] global = new long[N];
        Arrays.setAll(global, i -> 1000 + i);
        return TrainingBatch.draw(s, global, 7, 3, new Shape(1, SIDE, SIDE), 1f, 10, 0.1, 1000, flip);
    }

    @Test
    void withoutFlipEverySampleIsItsOwnViewAndTheOtherDrawsAreUnchanged() {
        LatentSubset.Sample[] s = samples();
        TrainingBatch off = draw(s, false);
        TrainingBatch on = draw(s, true);
        int e = SIDE * SIDE;
        int mirrored = 0;
        for (int i = 0; i < N; i++) {
            float[] offImage = Arrays.copyOfRange(off.x0(), i * e, (i + 1) * e);
            assertArrayEquals(s[i].mean(), offImage, 0f, "sample " + i + " without flip");
            float[] onImage = Arrays.copyOfRange(on.x0(), i * e, (i + 1) * e);
            if (Arrays.equals(onImage, s[i].meanFlip())) {
                mirrored++;
            } else {
                assertArrayEquals(s[i].mean(), onImage, 0f, "sample " + i + " with flip: the image or its mirror");
            }
        }
        // The paper's flip mirrors about half (64 fair coins: 32 ± 4; the seed fixes the count).
        assertTrue(mirrored > 16 && mirrored < 48, "mirrored " + mirrored + " of " + N);
        // The flip coin is drawn either way, so labels, timesteps and noise do not depend on the setting.
        assertArrayEquals(on.labels(), off.labels());
        assertArrayEquals(on.timesteps(), off.timesteps());
        assertArrayEquals(on.noise(), off.noise(), 0f);
        assertEquals(N, off.size());
    }

    /**
     * {@link TrainingBatch#mirrored} names the orientation draw takes for each sample, so samples holding only that
     * pair (what the stream decodes when told it) give the same batch as samples holding both.
     */
    @Test
    void mirroredNamesTheOrientationDrawTakes() {
        LatentSubset.Sample[] full = samples();
        for (boolean flip : new boolean[] {true, false}) {
            java.util.function.LongPredicate mirrored = TrainingBatch.mirrored(7, 3, flip);
            LatentSubset.Sample[] half = new LatentSubset.Sample[N];
            int taken = 0;
            for (int i = 0; i < N; i++) {
                boolean m = mirrored.test(1000 + i);
                taken += m ? 1 : 0;
                LatentSubset.Sample f = full[i];
                half[i] = m ? new LatentSubset.Sample(f.label(), null, null, f.meanFlip(), f.stdFlip())
                        : new LatentSubset.Sample(f.label(), f.mean(), f.std(), null, null);
            }
            assertTrue(flip ? taken > 16 && taken < 48 : taken == 0, "mirrored " + taken);
            TrainingBatch a = draw(full, flip);
            TrainingBatch b = draw(half, flip); // throws if it wanted a pair mirrored(...) did not name
            assertArrayEquals(a.x0(), b.x0(), 0f);
            assertArrayEquals(a.noise(), b.noise(), 0f);
            assertArrayEquals(a.labels(), b.labels());
        }
    }
}
