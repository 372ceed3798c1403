package dev.ditspark.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Parameter;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code DiT.initializer} against models.py's {@code initialize_weights} (docs/model.md, "Initialisation"), for every
 * conditioning variant: each key's values checked against its rule, and one seed giving one set of weights.
 */
class DiTInitializationTest {

    @ParameterizedTest
    @EnumSource(Conditioning.class)
    void everyKeyFollowsTheReferenceRule(Conditioning conditioning) {
        DiTConfig cfg = new DiTConfig(8, 2, 4, 64, 2, 4, 4.0, 0.1, 10, true, conditioning);
        DiT model = new DiT(cfg);
        try (NDManager m = TorchEngine.newManager()) {
            model.initialize(m, new SplittableRandom(11));
            int zero = 0;
            int normal = 0;
            int xavier = 0;
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                String key = e.getKey();
                Parameter p = e.getValue();
                float[] v = p.value().toFloatArray();
                long[] shape = p.shape().getShape();
                if (key.equals("pos_embed")) {
                    assertArrayEquals(SinCos.positionEmbedding(64, cfg.gridSize()), v, key);
                } else if (key.endsWith(".bias") || key.startsWith("final_layer.")
                        || (conditioning == Conditioning.ADALN_ZERO && key.contains(".adaLN_modulation."))) {
                    assertEquals(0.0, maxAbs(v), key + " starts at zero");
                    zero++;
                } else if (key.equals("y_embedder.embedding_table.weight") || key.startsWith("t_embedder.mlp.")) {
                    assertEquals(0.02, std(v), 0.002, key + " is N(0, 0.02)");
                    normal++;
                } else {
                    // xavier-uniform over (shape[0], rest): U(-b, b), b = sqrt(6 / (fan_in + fan_out)), std b/sqrt(3)
                    long fanOut = shape[0];
                    long fanIn = v.length / fanOut;
                    double bound = Math.sqrt(6.0 / (fanIn + fanOut));
                    assertTrue(maxAbs(v) <= bound && maxAbs(v) > 0.9 * bound, key + " within the xavier bound " + bound);
                    assertEquals(bound / Math.sqrt(3), std(v), 0.1 * bound / Math.sqrt(3), key + " xavier spread");
                    xavier++;
                }
            }
            assertTrue(zero > 0 && normal == 3 && xavier > 0, zero + " zero, " + normal + " normal, " + xavier + " xavier");
            if (conditioning == Conditioning.ADALN) {
                assertTrue(model.namedParameters().keySet().stream().anyMatch(k -> k.startsWith("blocks.0.adaLN_")),
                        "adaLN blocks have a modulation, initialised as every Linear (not zero)");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Conditioning.class)
    void oneSeedGivesOneSetOfWeights(Conditioning conditioning) {
        DiTConfig cfg = new DiTConfig(8, 2, 4, 32, 1, 2, 4.0, 0.1, 10, true, conditioning);
        try (NDManager m = TorchEngine.newManager()) {
            DiT a = new DiT(cfg);
            DiT b = new DiT(cfg);
            a.initialize(m, new SplittableRandom(5));
            b.initialize(m, new SplittableRandom(5));
            for (String key : a.namedParameters().keySet()) {
                assertArrayEquals(a.namedParameters().get(key).value().toFloatArray(),
                        b.namedParameters().get(key).value().toFloatArray(), key);
            }
        }
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double std(float[] v) {
        double mean = 0;
        for (float x : v) {
            mean += x;
        }
        mean /= v.length;
        double s = 0;
        for (float x : v) {
            s += (x - mean) * (x - mean);
        }
        return Math.sqrt(s / v.length);
    }
}
