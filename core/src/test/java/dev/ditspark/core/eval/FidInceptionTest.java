package dev.ditspark.core.eval;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import dev.ditspark.core.weights.WeightMismatchException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FID Inception-v3 at full width against tools/reference/inception_reference.py (PyTorch) with the same
 * formula-generated random weights (fixture inception_random.safetensors: images and outputs only).
 */
class FidInceptionTest {
    private static final double TOLERANCE = 1e-4;

    @Test
    void outputsMatchThePyTorchReference() throws Exception {
        try (SafetensorsFile f = Fixtures.open("inception_random.safetensors"); NDManager manager = TorchEngine.newManager()) {
            FidInception net = FidInception.random(Long.parseLong(f.metadata().get("seed")), manager);
            NDArray images = StateDict.read(f, "io.images", manager).toType(DataType.UINT8, false);
            assertEquals(new Shape(3, 40, 48, 3), images.getShape());
            FidInception.Outputs o = net.forward(images);
            assertEquals(new Shape(3, FidInception.POOL_DIM), o.pool().getShape());
            assertEquals(new Shape(3, FidInception.SPATIAL_DIM), o.spatial().getShape());
            assertEquals(new Shape(3, FidInception.CLASSES), o.logits().getShape());
            assertClose(f.readFloat32("io.pool"), o.pool().toFloatArray(), TOLERANCE, "pool_3 features");
            assertClose(f.readFloat32("io.spatial"), o.spatial().toFloatArray(), TOLERANCE, "mixed_6/conv spatial features");
            assertClose(f.readFloat32("io.logits"), o.logits().toFloatArray(), TOLERANCE, "logits");
            // The host-array path a Spark task uses gives the same numbers, batch by batch.
            byte[] bytes = new byte[3 * 40 * 48 * 3];
            images.toByteBuffer().get(bytes);
            InceptionFeatures feats = net.features(bytes, 3, 40, 48, manager, 2);
            assertClose(f.readFloat32("io.pool"), feats.pool(), TOLERANCE, "pool_3 features in batches of 2");
            assertClose(f.readFloat32("io.logits"), feats.logits(), TOLERANCE, "logits in batches of 2");
        }
    }

    /** The state_dict names and shapes are pytorch-fid's (listed by the reference script), 23,885,392 values. */
    @Test
    void keysAreThoseOfTheConvertedPtInception() throws Exception {
        try (SafetensorsFile f = Fixtures.open("inception_random.safetensors")) {
            JsonNode keys = Fixtures.json(f.metadata().get("keys"));
            FidInception net = new FidInception();
            Map<String, Parameter> params = net.namedParameters();
            assertEquals(keys.size(), params.size());
            for (Iterator<Map.Entry<String, JsonNode>> it = keys.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Parameter p = params.get(e.getKey());
                assertTrue(p != null, "missing " + e.getKey());
                long[] shape = new long[e.getValue().size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = e.getValue().get(i).asLong();
                }
                assertArrayEquals(shape, p.shape().getShape(), e.getKey());
            }
            assertEquals(Long.parseLong(f.metadata().get("parameters")), net.parameterCount());
            assertEquals(23_885_392L, net.parameterCount());
        }
    }

    /** A weights file round-trips through load; a missing or mis-shaped key is named, nothing else loads. */
    @Test
    void loadingChecksEveryKey(@TempDir Path dir) throws Exception {
        try (NDManager manager = TorchEngine.newManager()) {
            FidInception net = FidInception.random(1, manager);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            net.namedParameters().forEach((k, p) -> tensors.put(k, p.value()));
            Path good = dir.resolve("inception.safetensors");
            StateDict.writer(tensors, TensorDType.F32, Map.of()).write(good);
            FidInception loaded = FidInception.load(good, manager);
            assertEquals(net.fingerprint(), loaded.fingerprint());
            assertTrue(!net.fingerprint().equals(FidInception.random(2, manager).fingerprint()), "seed changes weights");

            Map<String, NDArray> broken = new LinkedHashMap<>(tensors);
            broken.remove("Mixed_6d.branch7x7dbl_3.bn.running_var");
            broken.put("Mixed_7c.branch_pool.conv.weight", manager.zeros(new Shape(192, 2048, 3, 3)));
            Path bad = dir.resolve("broken.safetensors");
            StateDict.writer(broken, TensorDType.F32, Map.of()).write(bad);
            WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> FidInception.load(bad, manager));
            assertTrue(e.getMessage().contains("broken.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("Mixed_6d.branch7x7dbl_3.bn.running_var"), e.getMessage());
            assertTrue(e.getMessage().contains("Mixed_7c.branch_pool.conv.weight: file [192, 2048, 3, 3] vs model [192, 2048, 1, 1]"),
                    e.getMessage());
        }
    }

    /** Resizing to the network's own size changes nothing; the matrix rows are convex weights. */
    @Test
    void bilinearMatrixIsIdentityAtSameSize() {
        float[] m = FidInception.bilinearMatrix(299, 299);
        for (int o = 0; o < 299; o++) {
            for (int i = 0; i < 299; i++) {
                assertEquals(o == i ? 1f : 0f, m[o * 299 + i], 0f);
            }
        }
        float[] up = FidInception.bilinearMatrix(256, 299);
        for (int o = 0; o < 299; o++) {
            float s = 0;
            for (int i = 0; i < 256; i++) {
                s += up[o * 256 + i];
            }
            assertEquals(1f, s, 1e-6f);
        }
    }
}
