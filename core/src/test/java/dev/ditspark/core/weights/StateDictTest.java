package dev.ditspark.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.nn.Parameter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictTest {

    @TempDir
    Path dir;

    private static DiTConfig tiny(int depth, int hidden) {
        return new DiTConfig(8, 2, 4, hidden, depth, 4, 4.0, 0.1, 10, true, Conditioning.ADALN_ZERO);
    }

    private static DiT randomModel(DiTConfig cfg, NDManager manager, long seed) {
        DiT model = new DiT(cfg);
        model.initialize(manager, new SplittableRandom(seed));
        for (Parameter p : model.namedParameters().values()) {
            if (p.trainable()) { // make the zero-initialised pieces non-zero too
                p.set(manager.randomNormal(0f, 0.1f, p.shape(), p.value().getDataType()));
            }
        }
        return model;
    }

    @Test
    void float32RoundTripIsBitExactAndKeepsMetadata() throws Exception {
        Path file = dir.resolve("w.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT a = randomModel(tiny(2, 32), m, 1);
            StateDict.write(a, file, TensorDType.F32, Map.of("format", "pt"));
            DiT b = new DiT(tiny(2, 32));
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals("pt", f.metadata().get("format"));
                assertEquals(a.namedParameters().keySet(), f.names());
                StateDict.load(b, f, m);
            }
            for (var e : a.namedParameters().entrySet()) {
                assertArrayEquals(e.getValue().value().toFloatArray(),
                        b.namedParameters().get(e.getKey()).value().toFloatArray(), 0f, e.getKey());
            }
            assertFalse(b.namedParameters().get("pos_embed").value().hasGradient());
            assertTrue(b.namedParameters().get("final_layer.linear.weight").value().hasGradient());
        }
    }

    @Test
    void halfPrecisionFilesLoadConvertedToFloat32() throws Exception {
        try (NDManager m = TorchEngine.newManager()) {
            DiT a = randomModel(tiny(1, 32), m, 2);
            for (TensorDType dtype : List.of(TensorDType.F16, TensorDType.BF16)) {
                Path file = dir.resolve(dtype + ".safetensors");
                StateDict.write(a, file, dtype, Map.of());
                DiT b = new DiT(tiny(1, 32));
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    assertEquals(dtype, f.info("blocks.0.attn.qkv.weight").dtype());
                    StateDict.load(b, f, m);
                }
                // F16 keeps 11 significant bits, BF16 8: relative error at most 2^-11 and 2^-8.
                double rel = dtype == TensorDType.F16 ? Math.pow(2, -11) : Math.pow(2, -8);
                float[] x = a.namedParameters().get("blocks.0.mlp.fc1.weight").value().toFloatArray();
                float[] y = b.namedParameters().get("blocks.0.mlp.fc1.weight").value().toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(x[i], y[i], Math.abs(x[i]) * rel + 1e-7, dtype + " element " + i);
                }
            }
        }
    }

    @Test
    void mismatchNamesEveryMissingUnexpectedAndMisshapenKey() throws Exception {
        Path file = dir.resolve("depth2.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            StateDict.write(randomModel(tiny(2, 32), m, 3), file, TensorDType.F32, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                DiT deeper = new DiT(tiny(3, 32));
                WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> StateDict.load(deeper, f, m));
                assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
                assertTrue(e.missing().contains("blocks.2.attn.qkv.weight"), e.getMessage());
                assertEquals(10, e.missing().size());
                assertTrue(e.unexpected().isEmpty());
                // Nothing was loaded: the model is untouched (no values at all).
                assertFalse(deeper.namedParameters().get("pos_embed").hasValue());

                DiT shallower = new DiT(tiny(1, 32));
                e = assertThrows(WeightMismatchException.class, () -> StateDict.load(shallower, f, m));
                assertTrue(e.unexpected().contains("blocks.1.mlp.fc2.bias"), e.getMessage());

                DiT wider = new DiT(tiny(2, 48));
                e = assertThrows(WeightMismatchException.class, () -> StateDict.load(wider, f, m));
                assertTrue(e.misshapen().contains("blocks.0.attn.qkv.weight: file [96, 32] vs model [144, 48]"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("shape mismatches"), e.getMessage());

                // With a prefix and an ignore list, only the named keys count.
                DiT same = new DiT(tiny(2, 32));
                StateDict.load(same, f, m, "", Set.of());
                assertTrue(same.namedParameters().get("pos_embed").hasValue());
            }
        }
    }

    @Test
    void fixedPositionEmbeddingIsSavedLikeTheReference() throws Exception {
        Path file = dir.resolve("init.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT a = new DiT(tiny(1, 32));
            a.initialize(m, new SplittableRandom(4));
            StateDict.write(a, file, TensorDType.F32, Map.of());
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertArrayEquals(new long[] {1, 16, 32}, f.info("pos_embed").shape());
                float[] pos = f.readFloat32("pos_embed");
                // Token 0 sits at row 0, column 0: sin(0) = 0 then cos(0) = 1 in each half (sin first).
                assertEquals(0f, pos[0]);
                assertEquals(1f, pos[8]);
                assertEquals(0f, pos[16]);
                assertEquals(1f, pos[24]);
            }
        }
    }
}
