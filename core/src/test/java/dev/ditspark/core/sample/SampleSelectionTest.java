package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.model.DiTConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dit sample's request as typed values: which samples, which grid, the overrides and the plan they make. */
class SampleSelectionTest {
    private static final DiTConfig TWELVE_CLASSES = new DiTConfig(8, 2, 3, 32, 1, 2, 4.0, 0.1, 12, true,
            dev.ditspark.core.model.Conditioning.ADALN_ZERO);

    @Test
    void perClassTakesTheFirstTenClassesAndAGridOfTheFirstColumns() {
        SampleSelection s = SampleSelection.perClass(5, 3);
        SampleLabels y = s.labels(12, 0);
        assertEquals(50, y.count());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0, 1}, java.util.Arrays.copyOf(y.toArray(), 6));
        SampleOutput.Grid g = s.grid(y);
        assertEquals(3, g.columns());
        assertEquals(30, g.indices().length);
        assertArrayEquals(new int[] {0, 1, 2, 5, 6, 7}, java.util.Arrays.copyOf(g.indices(), 6));
    }

    @Test
    void explicitAndUniformLabels() {
        SampleSelection list = new SampleSelection(List.of(3L, 11L, 3L), null, null, 8, false, null);
        SampleLabels y = list.labels(12, 0);
        assertArrayEquals(new long[] {3, 11, 3}, y.toArray());
        assertEquals(3, list.grid(y).columns());
        SampleSelection uniform = new SampleSelection(null, 100, null, 8, false, null);
        SampleLabels u = uniform.labels(12, 7);
        assertEquals(100, u.count());
        assertArrayEquals(u.toArray(), uniform.labels(12, 7).toArray(), "label i depends on (seed, i) alone");
        assertEquals(64, uniform.grid(u).indices().length);
        assertEquals(8, uniform.grid(u).columns());
    }

    @Test
    void contradictionsAndLabelsOutsideTheModelNameTheOption() {
        assertEquals("--labels and --classes: give one (--labels lists the classes itself)",
                assertThrows(IllegalArgumentException.class,
                        () -> new SampleSelection(List.of(1L), null, 2, 8, false, null).check()).getMessage());
        assertEquals("--num-samples: draws uniform labels of all classes; not with --per-class",
                assertThrows(IllegalArgumentException.class,
                        () -> new SampleSelection(null, 10, null, 8, true, null).check()).getMessage());
        assertEquals("--labels: 12 is not a class of this model (0..11)", assertThrows(IllegalArgumentException.class,
                () -> new SampleSelection(List.of(12L), null, null, 8, false, null).labels(12, 0)).getMessage());
        assertEquals("--classes: 13 classes asked, this model has 12", assertThrows(IllegalArgumentException.class,
                () -> new SampleSelection(null, null, 13, 8, false, null).labels(12, 0)).getMessage());
    }

    @Test
    void overridesWinAndABadOneIsNamedByItsOption() {
        SampleRequest r = new SampleRequest("file:/ckpt", null, false, null, null, 256, 1000,
                SampleSelection.perClass(2, 2), 0, "ddim10", "ddim", null, false, 64, "out", null);
        SampleSpec s = r.spec(SampleSpec.defaults());
        assertEquals("ddim10", s.steps());
        assertEquals("ddim", s.sampler());
        assertEquals(SampleSpec.defaults().cfgScale(), s.cfgScale());
        SampleRequest bad = new SampleRequest("file:/ckpt", null, false, null, null, 256, 1000,
                SampleSelection.perClass(2, 2), 0, null, "euler", null, false, 64, "out", null);
        String m = assertThrows(IllegalArgumentException.class, () -> bad.spec(SampleSpec.defaults())).getMessage();
        assertTrue(m.startsWith("--sampler"), m);
    }

    @Test
    void aShippedPlanNamesItsFilesByNameAndItsRequestHasNoCredentials(@TempDir Path dir) throws Exception {
        Path weights = Files.writeString(dir.resolve("w.safetensors"), "w");
        SampleRequest r = new SampleRequest(null, null, false, weights, "DiT-S/2", 256, 1000,
                SampleSelection.perClass(2, 2), 5, null, null, 1.0, false, 3, "s3a://bucket/out", null);
        SampleSpec s = r.spec(SampleSpec.defaults());
        SampleLabels y = r.selection().labels(TWELVE_CLASSES.numClasses(), r.seed());
        SamplePlan shipped = r.plan(TWELVE_CLASSES, s, y, "s3a://KEY:SECRET@bucket/w", null, 0, true);
        assertEquals("w.safetensors", shipped.weights());
        assertTrue(shipped.weightsShipped());
        assertEquals("s3a://bucket/out", shipped.out());
        assertEquals(7, shipped.chunks());
        assertTrue(!shipped.request().contains("SECRET"), shipped.request());
        SamplePlan here = r.plan(TWELVE_CLASSES, s, y, "w", null, 0, false);
        assertEquals(weights.toAbsolutePath().toString(), here.weights());
        assertEquals(shipped.request(), r.plan(TWELVE_CLASSES, s, y, "s3a://KEY:SECRET@bucket/w", null, 0, false).request(),
                "where it runs is not part of what the chunks must agree on");
    }
}
