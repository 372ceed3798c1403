package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleImagesTest {

    @TempDir
    Path dir;

    /** Two 2×3 grayscale samples covering the clamp at both ends and the rounding in between. */
    private static SampleImages twoSamples() {
        float[] x = {-2f, -1f, 0f, 0.5f, 1f, 3f, /* sample 2 */ 0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f};
        return SampleImages.fromPixels(x, 2, 1, 2, 3);
    }

    @Test
    void uint8ConversionIsTheReferences() {
        SampleImages s = twoSamples();
        // clamp(127.5·x + 128): -2 → 0, -1 → 0 (0.5 truncated), 0 → 128, 0.5 → 191, 1 → 255, 3 → 255.
        int[] expected = {0, 0, 128, 191, 255, 255};
        for (int p = 0; p < 6; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(expected[p], s.pixel(0, p / 3, p % 3, c), "pixel " + p);
            }
        }
    }

    @Test
    void npzIsReadByNumpy() throws Exception {
        Path npz = dir.resolve("samples.npz");
        twoSamples().writeNpz(npz);
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "Debian's python3 with numpy (bin/setup installs it)");
        Process p = new ProcessBuilder(python.toString(), "-c",
                "import numpy,sys; a=numpy.load(sys.argv[1])['arr_0']; print(a.shape, a.dtype, int(a.sum()), a[1,0,1,2])",
                npz.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assumeTrue(!out.contains("No module named 'numpy'"), "numpy is not installed");
        assertEquals(0, p.waitFor(), out);
        int sum = 0;
        SampleImages s = twoSamples();
        for (int i = 0; i < 2; i++) {
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    sum += 3 * s.pixel(i, r, c, 0);
                }
            }
        }
        assertEquals("(2, 2, 3, 3) uint8 " + sum + " " + s.pixel(1, 0, 1, 2), out);
    }

    @Test
    void gridPngHasOneTilePerSample() throws Exception {
        Path png = dir.resolve("grid.png");
        twoSamples().writeGrid(png, 2);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(2 + 2 * (3 + 2), img.getWidth());
        assertEquals(2 + 2 + 2, img.getHeight());
        assertEquals(255, img.getRGB(2 + 2, 2 + 1) & 0xFF); // sample 0, row 1, col 2 = 3.0 → 255
    }
}
