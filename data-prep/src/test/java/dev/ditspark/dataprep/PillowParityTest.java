package dev.ditspark.dataprep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every colour form decodes to the RGB that Pillow's {@code Image.open(f).convert("RGB")} gives, byte for byte:
 * fixtures written by {@code tools/reference/make_image_fixtures.py} (grey, grey+alpha, 1/2/4/16-bit grey, palette
 * with and without transparency, RGB(A) 8 and 16 bit, tRNS, JPEG RGB/grey, Adobe CMYK, YCCK, CMYK without marker).
 */
class PillowParityTest {
    private static final String DIR = "/fixtures/pillow/";

    static Stream<JsonNode> images() throws Exception {
        try (InputStream in = PillowParityTest.class.getResourceAsStream(DIR + "index.json")) {
            List<JsonNode> out = new ArrayList<>();
            new ObjectMapper().readTree(in).get("images").forEach(out::add);
            assertTrue(out.size() >= 21, "fixtures listed: " + out.size());
            return out.stream();
        }
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = PillowParityTest.class.getResourceAsStream(DIR + name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void decodesAsPillow(JsonNode fixture) throws Exception {
        String name = fixture.get("name").asText();
        RgbImage got = ImageDecoder.decode(resource(fixture.get("file").asText()));
        byte[] want = resource(name + ".rgb");
        int w = fixture.get("width").asInt();
        int h = fixture.get("height").asInt();
        assertEquals(w, got.width(), name);
        assertEquals(h, got.height(), name);
        int mismatches = 0;
        String first = null;
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got.pixels()[i]) {
                if (first == null) {
                    first = String.format("pixel (%d,%d) channel %d: Pillow %d, ours %d", (i / 3) % w, i / 3 / w, i % 3,
                            want[i] & 0xFF, got.pixels()[i] & 0xFF);
                }
                mismatches++;
            }
        }
        assertEquals(0, mismatches, name + " (Pillow mode " + fixture.get("pillow_mode").asText() + "): " + mismatches
                + " of " + want.length + " values differ; first " + first);
    }
}
