package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PrepareCommandTest {

    @Test
    void aMissingVaeIsOneLineNamingTheFlag(@TempDir Path tmp) {
        StringWriter err = new StringWriter();
        CommandLine cl = DitCommand.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("prepare", "--input", tmp.toString(), "--output", tmp.resolve("out").toString(),
                "--vae", tmp.resolve("nope.safetensors").toString());
        assertEquals(2, code);
        assertTrue(err.toString().contains("--vae") && err.toString().contains("no such file"), err.toString());
    }

    /** The command as a user runs it: embedded local Spark, float16 latents, a tiny VAE with its config in the metadata. */
    @Test
    @Tag("e2e")
    void preparesAFolderInEmbeddedSpark(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        for (String c : List.of("a", "b")) {
            Files.createDirectories(in.resolve(c));
            for (int i = 0; i < 2; i++) {
                BufferedImage im = new BufferedImage(20 + i, 18, BufferedImage.TYPE_INT_RGB);
                Random r = new Random(i + c.hashCode());
                for (int y = 0; y < 18; y++) {
                    for (int x = 0; x < 20 + i; x++) {
                        im.setRGB(x, y, r.nextInt());
                    }
                }
                ImageIO.write(im, "png", in.resolve(c + "/" + i + ".png").toFile());
            }
        }
        VaeConfig tiny = new VaeConfig(3, 3, 4, List.of(4, 4), 1, 2, 0.18215);
        Path vae = tmp.resolve("vae.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            AutoencoderKL model = new AutoencoderKL(tiny);
            model.initialize(m, new Random(1));
            StateDict.write(model, vae, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, tiny.toJson()));
        }
        StringWriter out = new StringWriter();
        CommandLine cl = DitCommand.commandLine();
        cl.setOut(new PrintWriter(out));
        int code = cl.execute("prepare", "--input", in.toString(), "--output", tmp.resolve("latents").toString(),
                "--image-size", "16", "--vae", vae.toString(), "--master", "local[2]", "--dtype", "float16");
        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("4 images"), out.toString());
        LatentDataset ds = LatentDataset.open(tmp.resolve("latents").toUri().toString());
        assertEquals(4, ds.size());
        assertEquals("float16", ds.manifest().dtype().id());
        assertEquals(8, ds.manifest().height());
        assertEquals("vae.safetensors", ds.manifest().encoder());
    }
}
