package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    @Test
    void npzWithLabelsReadsBackInJavaAndNumpy() throws Exception {
        Path npz = dir.resolve("labelled.npz");
        twoSamples().withLabels(new long[] {7, 3}).writeNpz(npz);
        SampleImages back = SampleImages.readNpz(npz);
        assertEquals(2, back.count());
        assertArrayEquals(new long[] {7, 3}, back.labels().orElseThrow());
        SampleImages s = twoSamples();
        for (int i = 0; i < 2; i++) {
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(s.pixel(i, r, c, 1), back.pixel(i, r, c, 1));
                }
            }
        }
        // grayscale(): q/127.5 − 1 of the (equal) channels: 191 → 0.498…, 0 → −1.
        assertEquals(191 / 127.5f - 1f, back.grayscale()[3], 1e-6f);
        assertEquals(-1f, back.grayscale()[0], 0f);
        assertEquals("(2, 2, 3, 3) uint8 [7 3] int64", numpy(npz,
                "a=z['arr_0']; l=z['labels']; print(a.shape, a.dtype, l, l.dtype)"));
    }

    @Test
    void readsWhatNumpySavezCompressedWrites() throws Exception {
        Path npz = dir.resolve("numpy.npz");
        String out = numpy(npz, "import numpy as np; a=np.arange(2*4*5*3, dtype=np.uint8).reshape(2,4,5,3); "
                + "np.savez_compressed(sys.argv[1], a, labels=np.array([4, 9], dtype=np.int32)); print('ok')");
        assertEquals("ok", out);
        SampleImages s = SampleImages.readNpz(npz);
        assertEquals(2, s.count());
        assertEquals(4, s.height());
        assertEquals(5, s.width());
        assertEquals(((1 * 4 + 2) * 5 + 3) * 3 + 2, s.pixel(1, 2, 3, 2));
        assertArrayEquals(new long[] {4, 9}, s.labels().orElseThrow());
    }

    @Test
    void npzWithoutSamplesNamesTheFile() throws Exception {
        Path npz = dir.resolve("other.npz");
        assertEquals("ok", numpy(npz, "import numpy as np; np.savez(sys.argv[1], x=np.zeros(3)); print('ok')"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> SampleImages.readNpz(npz));
        assertEquals(npz + ": no arr_0 array (expected the samples, (N, H, W, 3) uint8)", e.getMessage());
    }

    /** Runs {@code code} with numpy as {@code z = numpy.load(npz)} when the file exists, sys.argv[1] = npz. */
    private static String numpy(Path npz, String code) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "Debian's python3 with numpy (bin/setup installs it)");
        String prefix = "import numpy, sys; z = numpy.load(sys.argv[1]) if sys.argv[1:] and "
                + "__import__('os').path.exists(sys.argv[1]) else None; ";
        Process p = new ProcessBuilder(python.toString(), "-c", prefix + code, npz.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assumeTrue(!out.contains("No module named 'numpy'"), "numpy is not installed");
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
