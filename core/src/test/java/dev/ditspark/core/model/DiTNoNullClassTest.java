package dev.ditspark.core.model;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.diffusion.Sampler;
import dev.ditspark.core.diffusion.SeededNoise;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import dev.ditspark.core.weights.WeightMismatchException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 10 item 8: a DiT trained with class_dropout_prob = 0 has no null-class row, as the reference's
 * LabelEmbedder builds it (use_cfg_embedding = dropout_prob > 0: num_classes + use_cfg_embedding rows), so its
 * weights and PyTorch's are interchangeable; guidance (scale ≠ 1) is refused for it and scale 1 runs without the
 * unconditional half. The fixture comes from tools/reference/make_no_null_fixture.py.
 */
class DiTNoNullClassTest {

    @ParameterizedTest
    @CsvSource({"10, 0.0, 10", "10, 0.1, 11", "1, 0.0, 1", "1000, 0.1, 1001", "3, 0.5, 4"})
    void labelTableRowsFollowTheReferenceRule(int numClasses, double p, int rows) {
        DiTConfig cfg = new DiTConfig(8, 4, 4, 32, 1, 2, 4.0, p, numClasses, true, Conditioning.ADALN_ZERO);
        DiT model = new DiT(cfg);
        assertEquals(new Shape(rows, 32), model.namedParameters().get(DiTConfig.LABEL_TABLE).shape());
        assertEquals(rows, cfg.labelRows());
        assertEquals(p > 0, cfg.hasNullClass());
    }

    @Test
    void referenceWeightsWithoutANullRowLoadAndMatchTheReferenceForward() throws Exception {
        try (SafetensorsFile f = Fixtures.open("dit_tiny_no_null.safetensors"); NDManager m = TorchEngine.newManager()) {
            DiTConfig cfg = Fixtures.config(f, "config");
            assertFalse(cfg.hasNullClass());
            assertEquals(cfg.numClasses(), f.info(DiTConfig.LABEL_TABLE).shape()[0]);
            DiT model = new DiT(cfg);
            Set<String> io = f.names().stream().filter(k -> k.startsWith("io.")).collect(Collectors.toSet());
            StateDict.load(model, f, m, "", io);
            NDArray out = model.forward(StateDict.read(f, "io.x", m), StateDict.read(f, "io.t", m),
                    StateDict.read(f, "io.y", m));
            assertClose(f.readFloat32("io.out"), out.toFloatArray(), 1e-5, "forward without a null class");

            // The same file into a model that expects the null row: refused, naming the table.
            DiT withNull = new DiT(cfg.withClassDropoutProb(0.1));
            WeightMismatchException e = assertThrows(WeightMismatchException.class,
                    () -> StateDict.load(withNull, f, m, "", io));
            assertTrue(e.getMessage().contains(DiTConfig.LABEL_TABLE), e.getMessage());
            // Matching the config to the file's table picks the right shape.
            assertEquals(cfg, cfg.withClassDropoutProb(0.1).withLabelRows(10));
            assertThrows(IllegalArgumentException.class, () -> cfg.withLabelRows(12));
        }
    }

    @Test
    void exportedWeightsHaveExactlyTheReferenceNamesAndShapes(@TempDir Path dir) throws Exception {
        try (SafetensorsFile ref = Fixtures.open("dit_tiny_no_null.safetensors"); NDManager m = TorchEngine.newManager()) {
            DiT model = new DiT(Fixtures.config(ref, "config"));
            model.initialize(m, new Random(3));
            Path out = dir.resolve("exported.safetensors");
            StateDict.write(model, out, TensorDType.F32, Map.of());
            try (SafetensorsFile ours = SafetensorsFile.open(out)) {
                assertEquals(shapes(ref, true), shapes(ours, false));
            }
        }
    }

    private static Map<String, List<Long>> shapes(SafetensorsFile f, boolean skipIo) {
        Map<String, List<Long>> s = new TreeMap<>();
        for (String k : f.names()) {
            if (!(skipIo && k.startsWith("io."))) {
                s.put(k, Arrays.stream(f.info(k).shape()).boxed().toList());
            }
        }
        return s;
    }

    @Test
    void guidanceIsRefusedWithoutANullClassAndScaleOneSkipsTheUnconditionalHalf() {
        DiTConfig cfg = new DiTConfig(8, 4, 4, 32, 1, 2, 4.0, 0.0, 3, true, Conditioning.ADALN_ZERO);
        try (NDManager m = TorchEngine.newManager()) {
            DiT model = new DiT(cfg);
            model.initialize(m, new Random(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ClassifierFreeGuidance(model, 4.0));
            assertTrue(e.getMessage().contains("needs a null class") && e.getMessage().contains("--cfg-scale 1"), e.getMessage());

            ClassifierFreeGuidance none = new ClassifierFreeGuidance(model, 1.0);
            assertFalse(none.active());
            List<Long> batches = new ArrayList<>();
            SeededNoise seeded = new SeededNoise(1);
            NDArray z = seeded.next(m, new Shape(2, 4, 8, 8));
            NDArray x = none.sample(GaussianDiffusion.linear("ddim3"), z, new long[] {0, 2}, Sampler.ddim(0),
                    (mgr, shape) -> {
                        batches.add(shape.get(0));
                        return seeded.next(mgr, shape);
                    }, ProgressListener.NONE);
            assertEquals(new Shape(2, 4, 8, 8), x.getShape());
            assertEquals(List.of(2L, 2L, 2L), batches); // the batch never doubles: no unconditional half
        }
    }
}
