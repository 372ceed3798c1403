package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ditspark.core.model.DiTConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 1, the parts that need no model: uniform labels as a function of (seed, i), the streamed ADM .npz
 * (equal to the one-piece writer, read by numpy), and the join of a request's chunks into samples.npz + grid.png.
 */
class SampleOutputTest {

    /** n samples of 3×2 pixels whose values encode their index, labelled by {@code labels}. */
    private static SampleImages numbered(int first, long[] labels) {
        int n = labels.length;
        float[] px = new float[n * 3 * 3 * 2];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 18; j++) {
                px[i * 18 + j] = ((first + i) * 7 % 200) / 127.5f - 1f + j / 255f;
            }
        }
        return SampleImages.fromPixels(px, n, 3, 3, 2).withLabels(labels);
    }

    @Test
    void uniformLabelsDependOnlyOnSeedAndIndexAndCoverTheClassesEvenly() {
        long[] big = PerSampleNoise.uniformLabels(0, 20_000, 10);
        assertArrayEquals(Arrays.copyOf(big, 500), PerSampleNoise.uniformLabels(0, 500, 10), "a prefix is the same");
        assertFalse(Arrays.equals(Arrays.copyOf(big, 500), PerSampleNoise.uniformLabels(1, 500, 10)), "another seed");
        int[] count = new int[10];
        for (long y : big) {
            count[(int) y]++;
        }
        // Pearson's chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
        double chi2 = 0;
        for (int c : count) {
            chi2 += (c - 2000.0) * (c - 2000.0) / 2000.0;
        }
        assertTrue(chi2 < 27.9, "chi2 " + chi2 + " of " + Arrays.toString(count));
        // ImageNet's 1000 classes: every label in range.
        assertTrue(Arrays.stream(PerSampleNoise.uniformLabels(3, 5000, 1000)).allMatch(y -> y >= 0 && y < 1000));
        // The label stream is not the noise stream: label i is not a function of sample i's first Gaussian.
        assertNotEquals(PerSampleNoise.stream(0, 0).nextLong(), new java.util.SplittableRandom(0).nextLong());
    }

    @Test
    void streamedNpzEqualsTheOnePieceOneAndNumpyReadsIt(@TempDir Path dir) throws Exception {
        List<SampleImages> parts = List.of(numbered(0, new long[] {3, 1}), numbered(2, new long[] {0}),
                numbered(3, new long[] {2, 2, 9}));
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        SampleImages.concat(parts).writeNpz(whole);
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        SampleImages.writeNpz(streamed, 6, 3, 2, parts.size(), parts::get);
        assertArrayEquals(whole.toByteArray(), streamed.toByteArray());

        Path npz = Files.write(dir.resolve("s.npz"), streamed.toByteArray());
        String out = python("import numpy, sys; z = numpy.load(sys.argv[1]); a = z['arr_0']; "
                + "print(a.shape, a.dtype, z['labels'].tolist(), int(a[4, 2, 1, 0]))", npz);
        assertEquals("(6, 3, 2, 3) uint8 [3, 1, 0, 2, 2, 9] " + parts.get(2).pixel(1, 2, 1, 0), out);

        IOException wrong = assertThrows(IOException.class,
                () -> SampleImages.writeNpz(new ByteArrayOutputStream(), 7, 3, 2, parts.size(), parts::get));
        assertEquals("the parts hold 6 samples, expected 7", wrong.getMessage());
    }

    @Test
    void samplesBeyondOneJavaArrayAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        // Only the header of 11,000 samples of 256 px (2.16 GB): the reader must refuse before reading any data.
        Path npz = dir.resolve("big.npz");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(npz))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("arr_0.npy"));
            zip.write(SampleImages.npyHeader(new long[] {11_000, 256, 256, 3}, "|u1"));
            zip.closeEntry();
        }
        IOException e = assertThrows(IOException.class, () -> SampleImages.readNpz(npz));
        assertEquals(npz + ": arr_0: [11000, 256, 256, 3] is 2162688000 bytes, more than this reader holds at once "
                + "(2 GB); split the samples into several .npz files", e.getMessage());
    }

    private static SamplePlan plan(Path out, int count, int batch, SampleOutput.Grid grid) {
        return new SamplePlan(null, 0, false, "unused.safetensors", false,
                SamplePlan.Shape.of(DiTConfig.named("DiT-S/8", 64, 4, 2)), null, false, "10", "ddpm", 1.0, false,
                0.0, 7, SampleLabels.perClass(2, count / 2), batch, out.toString(), "{\"test\": 1}", grid);
    }

    @Test
    void theChunksAreJoinedInOrderIntoSamplesAndGridThenRemoved(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        SamplePlan plan = plan(out, 6, 4, SampleOutput.Grid.perClass(2, 3, 2));
        SampleChunks chunks = SampleChunks.open(plan.chunksLocation(), new Configuration(), plan.request(), l -> { });
        // Written out of order, as workers finish them.
        chunks.write(4, numbered(4, new long[] {1, 1}));
        IOException missing = assertThrows(IOException.class, () -> SampleOutput.assemble(plan, new Configuration()));
        assertEquals("sample: chunk chunk-00000000-00000004.npz in " + out.toUri().toString().replaceAll("/$", "")
                .replaceFirst("^file:/+", "file:/") + "/chunks is missing or unreadable; run the same command again to "
                + "sample it", missing.getMessage());
        chunks.write(0, numbered(0, new long[] {0, 0, 0, 1}));
        try (Stream<Path> s = Files.list(out.resolve("chunks"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".crc")), "no checksum files on local disk");
        }
        SampleOutput.assemble(plan, new Configuration());

        SampleImages all = SampleImages.readNpz(out.resolve(SampleOutput.SAMPLES));
        SampleImages expected = SampleImages.concat(List.of(numbered(0, new long[] {0, 0, 0, 1}),
                numbered(4, new long[] {1, 1})));
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        all.writeNpz(a);
        expected.writeNpz(b);
        assertArrayEquals(b.toByteArray(), a.toByteArray());
        assertArrayEquals(new long[] {0, 0, 0, 1, 1, 1}, all.labels().orElseThrow());
        // The grid: the first 2 of each class (samples 0, 1 and 3, 4), 2 columns, read back by ImageIO.
        java.awt.image.BufferedImage grid = javax.imageio.ImageIO.read(out.resolve(SampleOutput.GRID).toFile());
        assertEquals(2 * (2 + 2) + 2, grid.getWidth());
        assertEquals(2 * (3 + 2) + 2, grid.getHeight());
        assertEquals(all.pixel(3, 0, 0, 0), (grid.getRGB(2, 2 + 5) >> 16) & 0xFF, "row 2 starts with sample 3");
        assertFalse(Files.exists(out.resolve("chunks")), "the chunks are removed once the output is written");
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(SampleOutput.GRID, SampleOutput.SAMPLES),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "nothing else left behind");
        }
    }

    private static String python(String code, Path arg) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "Debian's python3 with numpy (bin/setup installs it)");
        List<String> cmd = new ArrayList<>(List.of(python.toString(), "-c", code, arg.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assumeTrue(!out.contains("No module named 'numpy'"), "numpy is not installed");
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
