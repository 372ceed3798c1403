package dev.ditspark.core.vae;

import static dev.ditspark.core.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.testing.Fixtures;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import dev.ditspark.core.weights.WeightMismatchException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DJL KL autoencoder against the plain-PyTorch reference (tools/reference/vae_reference.py). */
class AutoencoderKLTest {
    private static final double TOLERANCE = 1e-5;

    private static Set<String> io(SafetensorsFile f) {
        return f.names().stream().filter(k -> k.startsWith("io.")).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void encoderAndDecoderMatchTheReference() throws Exception {
        try (SafetensorsFile f = Fixtures.open("vae_tiny.safetensors"); NDManager manager = TorchEngine.newManager()) {
            AutoencoderKL vae = AutoencoderKL.load(f, manager, io(f));
            assertEquals(java.util.List.of(4, 8, 8), vae.config().blockOutChannels());
            Posterior p = vae.encode(StateDict.read(f, "io.x", manager));
            assertClose(f.readFloat32("io.mean"), p.mean().toFloatArray(), TOLERANCE, "posterior mean");
            assertClose(f.readFloat32("io.std"), p.std().toFloatArray(), TOLERANCE, "posterior std");
            NDArray decoded = vae.decode(StateDict.read(f, "io.z", manager));
            assertEquals(new ai.djl.ndarray.types.Shape(2, 3, 16, 16), decoded.getShape());
            assertClose(f.readFloat32("io.decoded"), decoded.toFloatArray(), TOLERANCE, "decoder output");
        }
    }

    /** Files written before diffusers 0.14 name the attention query/key/value/proj_attn: same numbers. */
    @Test
    void legacyAttentionKeysLoadToTheSameModel(@TempDir Path dir) throws Exception {
        Path legacy = dir.resolve("legacy.safetensors");
        try (SafetensorsFile f = Fixtures.open("vae_tiny.safetensors"); NDManager manager = TorchEngine.newManager()) {
            Map<String, NDArray> renamed = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : StateDict.readAll(f, "", manager).entrySet()) {
                String k = e.getKey().replace(".to_q.", ".query.").replace(".to_k.", ".key.")
                        .replace(".to_v.", ".value.").replace(".to_out.0.", ".proj_attn.");
                renamed.put(k, e.getValue());
            }
            StateDict.writer(renamed, TensorDType.F32, f.metadata()).write(legacy);
            try (SafetensorsFile lf = SafetensorsFile.open(legacy)) {
                assertTrue(lf.contains("decoder.mid_block.attentions.0.proj_attn.weight"));
                AutoencoderKL vae = AutoencoderKL.load(lf, manager, io(lf));
                Posterior p = vae.encode(StateDict.read(f, "io.x", manager));
                assertClose(f.readFloat32("io.mean"), p.mean().toFloatArray(), TOLERANCE, "legacy-key mean");
            }
        }
    }

    /** The full-size KL-f8 has diffusers' key names and parameter count (83,653,863 for sd-vae-ft-ema/mse). */
    @Test
    void klF8HasTheDiffusersLayout() {
        AutoencoderKL vae = new AutoencoderKL(VaeConfig.SD_KL_F8);
        Map<String, ?> names = vae.namedParameters();
        assertEquals(83_653_863L, vae.parameterCount());
        for (String k : new String[] {"encoder.conv_in.weight", "encoder.down_blocks.0.resnets.0.norm1.weight",
            "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", "encoder.down_blocks.2.downsamplers.0.conv.weight",
            "encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.to_out.0.bias",
            "encoder.mid_block.attentions.0.group_norm.weight", "quant_conv.weight", "post_quant_conv.bias",
            "decoder.up_blocks.3.resnets.2.conv2.weight", "decoder.up_blocks.2.resnets.0.conv_shortcut.weight",
            "decoder.up_blocks.0.upsamplers.0.conv.weight", "decoder.conv_norm_out.bias", "decoder.conv_out.weight"}) {
            assertTrue(names.containsKey(k), "missing " + k);
        }
        assertTrue(!names.containsKey("encoder.down_blocks.3.downsamplers.0.conv.weight"), "last level downsamples");
        assertTrue(!names.containsKey("decoder.up_blocks.3.upsamplers.0.conv.weight"), "last level upsamples");
        assertEquals(8, VaeConfig.SD_KL_F8.downsampling());
    }

    @Test
    void aMismatchedFileNamesTheKeys(@TempDir Path dir) throws Exception {
        Path wrong = dir.resolve("wrong.safetensors");
        try (SafetensorsFile f = Fixtures.open("vae_tiny.safetensors"); NDManager manager = TorchEngine.newManager()) {
            Map<String, NDArray> all = StateDict.readAll(f, "", manager);
            all.remove("decoder.conv_out.bias");
            StateDict.writer(all, TensorDType.F32, f.metadata()).write(wrong);
            try (SafetensorsFile wf = SafetensorsFile.open(wrong)) {
                WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> AutoencoderKL.load(wf, manager, io(wf)));
                assertTrue(e.getMessage().contains("decoder.conv_out.bias"), e.getMessage());
            }
        }
    }
}
