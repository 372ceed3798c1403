package dev.ditspark.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The reference fixtures made by tools/reference/make_fixtures.py (see its README to regenerate them),
 * and the tolerance checks the parity tests share.
 */
public final class Fixtures {
    private Fixtures() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public static Path path(String name) {
        try {
            var url = Fixtures.class.getResource("/fixtures/" + name);
            if (url == null) {
                throw new IllegalStateException("fixture missing: " + name + " (regenerate with tools/reference)");
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SafetensorsFile open(String name) throws IOException {
        return SafetensorsFile.open(path(name));
    }

    public static JsonNode json(String metadataValue) throws IOException {
        return JSON.readTree(metadataValue);
    }

    /** The DiT config written in a fixture's metadata under {@code key}. */
    public static DiTConfig config(SafetensorsFile file, String key) throws IOException {
        JsonNode c = json(file.metadata().get(key));
        return new DiTConfig(c.get("input_size").asInt(), c.get("patch_size").asInt(), c.get("in_channels").asInt(),
                c.get("hidden_size").asInt(), c.get("depth").asInt(), c.get("num_heads").asInt(), 4.0,
                c.has("class_dropout_prob") ? c.get("class_dropout_prob").asDouble() : 0.1,
                c.get("num_classes").asInt(), c.get("learn_sigma").asBoolean(),
                Conditioning.fromId(c.get("conditioning").asText()));
    }

    /**
     * Asserts max|actual − expected| ≤ rel · max|expected| (relative to the tensor's scale, so values that
     * are tiny by cancellation do not dominate), and reports where the worst element is.
     */
    public static void assertClose(float[] expected, float[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (!(d <= worst)) { // NaN counts as worst
                worst = d;
                at = i;
            }
        }
        if (Double.isNaN(worst) || worst > rel * scale) {
            fail(String.format("%s: max |diff| %.3g at %d (expected %s, got %s) > %.1g x scale %.3g", what, worst,
                    at, expected[at], actual[at], rel, scale));
        }
    }

    public static void assertClose(double[] expected, double[] actual, double rel, String what) {
        float[] e = new float[expected.length];
        float[] a = new float[actual.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = (float) expected[i];
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) actual[i];
        }
        assertClose(e, a, rel, what);
    }
}
