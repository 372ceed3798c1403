package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit sample --vae}: a latent DiT's samples are decoded to pixels (64 px from 8×8 latents, f = 8). */
@Tag("e2e")
class SampleWithVaeTest {

    @Test
    void latentSamplesAreDecodedThroughTheVae(@TempDir Path tmp) throws Exception {
        Path weights = tmp.resolve("dit.safetensors");
        Path vae = tmp.resolve("vae.safetensors");
        VaeConfig tiny = new VaeConfig(3, 3, 4, List.of(4, 4, 4, 4), 1, 2, 0.18215);
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 2));
            dit.initialize(m, new Random(0));
            StateDict.write(dit, weights, TensorDType.F16, Map.of());
            AutoencoderKL ae = new AutoencoderKL(tiny);
            ae.initialize(m, new Random(1));
            StateDict.write(ae, vae, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, tiny.toJson()));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = DitCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute("sample",
                "--weights", weights.toString(), "--model", "DiT-S/8", "--image-size", "64", "--num-classes", "2",
                "--per-class", "1", "--steps", "2", "--vae", vae.toString(), "--out", tmp.resolve("s").toString());
        assertEquals(0, code, out + " " + err);
        BufferedImage grid = ImageIO.read(tmp.resolve("s/grid.png").toFile());
        // One column (1 per class) of two 64 px images plus the grid's padding: decoded, not 8 px latents.
        assertTrue(grid.getWidth() >= 64 && grid.getWidth() < 2 * 64, "grid width " + grid.getWidth());
        assertTrue(grid.getHeight() >= 2 * 64 && grid.getHeight() < 3 * 64, "grid height " + grid.getHeight());

        int without = DitCommand.commandLine().setOut(new PrintWriter(new StringWriter()))
                .setErr(new PrintWriter(err)).execute("sample", "--weights", weights.toString(), "--model", "DiT-S/8",
                        "--image-size", "64", "--num-classes", "2", "--steps", "2", "--out", tmp.resolve("t").toString());
        assertEquals(2, without);
    }
}
