package dev.ditspark.dataprep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.weights.SafetensorsFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The crop against PIL's (tools/reference/make_vae_fixtures.py --crop-out: ADM's center_crop_arr on random-noise
 * images, Pillow 9.4): box halvings with odd sides, several halvings, shrinking, enlarging a too-small image,
 * half-to-even rounding. Bit-exact: every byte equal.
 */
class AdmCenterCropTest {

    @Test
    void matchesPillowBitForBit() throws Exception {
        Path p = Path.of(AdmCenterCropTest.class.getResource("/fixtures/adm_crop.safetensors").toURI());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            JsonNode cases = new ObjectMapper().readTree(f.metadata().get("cases"));
            assertEquals(9, cases.size());
            for (int i = 0; i < cases.size(); i++) {
                int h = cases.get(i).get(0).asInt();
                int w = cases.get(i).get(1).asInt();
                int size = cases.get(i).get(2).asInt();
                RgbImage in = new RgbImage(w, h, bytes(f.readInt64("case" + i + ".in")));
                byte[] expected = bytes(f.readInt64("case" + i + ".out"));
                RgbImage out = AdmCenterCrop.apply(in, size);
                assertEquals(size, out.width());
                assertEquals(size, out.height());
                assertArrayEquals(expected, out.pixels(), "case " + i + ": " + h + "x" + w + " -> " + size);
            }
        }
    }

    @Test
    void unitRangeAndMirror() {
        RgbImage im = new RgbImage(2, 1, new byte[] {0, (byte) 255, 10, (byte) 255, 0, 20});
        float[] out = new float[6];
        im.toUnitRange(out, 0, false);
        assertArrayEquals(new float[] {-1f, 1f, 1f, -1f, 10 / 127.5f - 1f, 20 / 127.5f - 1f}, out, 1e-7f);
        im.toUnitRange(out, 0, true);
        assertArrayEquals(new float[] {1f, -1f, -1f, 1f, 20 / 127.5f - 1f, 10 / 127.5f - 1f}, out, 1e-7f);
    }

    private static byte[] bytes(long[] v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }
}
