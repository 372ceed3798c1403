package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.dataprep.AdmCenterCrop;
import dev.ditspark.dataprep.ImageDecoder;
import dev.ditspark.dataprep.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit eval --ref}: ADM's five numbers, here with random Inception weights on a set against itself. */
class EvalImageNetTest {

    private static Path npz(Path dir, String name) throws Exception {
        Random r = new Random(4);
        float[] px = new float[5 * 3 * 24 * 24];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        Path p = dir.resolve(name);
        SampleImages.fromPixels(px, 5, 3, 24, 24).writeNpz(p);
        return p;
    }

    private static double value(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": (\\S+)$").matcher(out);
        assertTrue(m.find(), "no '" + label + "' line in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void printsTheFiveNumbersAndCachesTheReference(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz");
        Path ref = npz(dir, "ref.npz");
        DitRun run = DitRun.of("eval", "--samples", samples.toString(), "--ref", ref.toString(), "--inception", "random:0",
                "--batch-size", "3", "--threads", "1");
        assertEquals(0, run.code(), run.all());
        String out = run.out();
        assertTrue(out.contains("random weights"), out);
        assertEquals(0, value(out, "FID"), 1e-2, out);
        assertEquals(0, value(out, "sFID"), 1e-2, out);
        assertEquals(1.0, value(out, "Precision"), out);
        assertEquals(1.0, value(out, "Recall"), out);
        double is = value(out, "Inception Score");
        assertTrue(is >= 1 && is <= 5, out);
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().matches("ref\\.inception-[0-9a-f]{16}\\.npz")),
                    "reference features cached next to it");
        }
    }

    @Test
    void refusalsNameTheOption(@TempDir Path dir) throws Exception {
        Path samples = npz(dir, "samples.npz");
        DitRun noWeights = DitRun.of("eval", "--samples", samples.toString(), "--ref", samples.toString());
        assertTrue(noWeights.code() != 0);
        assertTrue(noWeights.err().contains("--inception: required with --ref"), noWeights.all());
        assertEquals(1, noWeights.err().strip().lines().count(), "one line: " + noWeights.err());

        DitRun noRef = DitRun.of("eval", "--samples", samples.toString(), "--ref", dir.resolve("nope.npz").toString(),
                "--inception", "random:0");
        assertTrue(noRef.err().contains("--ref " + dir.resolve("nope.npz") + ": no such file"), noRef.all());

        Path noImages = dir.resolve("stats.npz");
        dev.ditspark.core.eval.NpzFile.write(noImages, java.util.Map.of("mu", new double[] {1, 2}),
                java.util.Map.of("mu", new long[] {2}));
        DitRun wrongRef = DitRun.of("eval", "--samples", samples.toString(), "--ref", noImages.toString(),
                "--inception", "random:0");
        assertTrue(wrongRef.code() != 0);
        assertTrue(wrongRef.err().contains(noImages + ": no array 'arr_0'"), wrongRef.all());
        assertEquals(1, wrongRef.err().strip().lines().count(), "one line: " + wrongRef.err());

        DitRun badSeed = DitRun.of("eval", "--samples", samples.toString(), "--ref", samples.toString(),
                "--inception", "random:x");
        assertTrue(badSeed.err().contains("--inception random:x: expected random:SEED"), badSeed.all());
    }

    /** A PNG of random colours, {@code w} x {@code h}. */
    private static Path png(Path file, int w, int h, long seed) throws Exception {
        Random r = new Random(seed);
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Files.createDirectories(file.getParent());
        javax.imageio.ImageIO.write(img, "png", file.toFile());
        return file;
    }

    @Test
    void aFolderOfRealImagesIsCroppedAsAdmAndCachedNextToIt(@TempDir Path dir) throws Exception {
        // ImageNet's layout, images of other sizes and aspects than the samples' 24 px.
        Path real = dir.resolve("real");
        List<Path> files = List.of(png(real.resolve("n01/a.png"), 40, 30, 1), png(real.resolve("n01/b.png"), 24, 24, 2),
                png(real.resolve("n02/c.png"), 50, 64, 3), png(real.resolve("n02/d.png"), 20, 33, 4),
                png(real.resolve("n02/e.png"), 97, 48, 5));
        png(real.resolve("n02/.hidden.png"), 8, 8, 6); // skipped
        // The samples are those images cut as ADM cuts its reference batches: a set against itself.
        byte[] crops = new byte[files.size() * 24 * 24 * 3];
        float[] chw = new float[files.size() * 3 * 24 * 24];
        for (int i = 0; i < files.size(); i++) {
            RgbImage c = AdmCenterCrop.apply(ImageDecoder.decode(Files.readAllBytes(files.get(i))), 24);
            System.arraycopy(c.pixels(), 0, crops, i * 24 * 24 * 3, 24 * 24 * 3);
            c.toUnitRange(chw, i * 3 * 24 * 24, false);
        }
        Path samples = dir.resolve("samples.npz");
        SampleImages.fromPixels(chw, files.size(), 3, 24, 24).writeNpz(samples);

        DitRun run = DitRun.of("eval", "--samples", samples.toString(), "--ref", real.toString(), "--inception",
                "random:0", "--batch-size", "5", "--threads", "1");
        assertEquals(0, run.code(), run.all());
        assertEquals(0, value(run.out(), "FID"), 1e-2, run.out());
        assertEquals(0, value(run.out(), "sFID"), 1e-2, run.out());
        assertEquals(1.0, value(run.out(), "Precision"), run.out());
        assertEquals(1.0, value(run.out(), "Recall"), run.out());
        assertTrue(run.out().contains("(5 samples against 5 reference images"), run.out());
        // The cropped images are cached next to the folder, byte for byte the crops, and their features next to them.
        Path cached;
        try (var list = Files.list(dir)) {
            List<Path> npz = list.filter(f -> f.getFileName().toString().matches("real\\.ref-24px-[0-9a-f]{16}\\.npz"))
                    .toList();
            assertEquals(1, npz.size(), run.out());
            cached = npz.get(0);
        }
        try (NpzFile z = NpzFile.open(cached)) {
            byte[] got = new byte[crops.length];
            int[] at = {0};
            z.streamImages("arr_0", 2, (nhwc, count, h, w) -> {
                System.arraycopy(nhwc, 0, got, at[0], count * h * w * 3);
                at[0] += count * h * w * 3;
            });
            assertArrayEquals(crops, got);
        }
        try (var list = Files.list(dir)) {
            assertTrue(list.anyMatch(f -> f.getFileName().toString().matches("real\\.ref-24px-[0-9a-f]{16}\\.inception-"
                    + "[0-9a-f]{16}\\.npz")), "features cached next to the images");
        }
        // Unchanged folder: both read from their caches, same numbers.
        DitRun again = DitRun.of("eval", "--samples", samples.toString(), "--ref", real.toString(), "--inception",
                "random:0", "--batch-size", "5", "--threads", "1");
        assertEquals(0, again.code(), again.all());
        assertTrue(again.out().contains("reference images from the cache"), again.out());
        assertTrue(again.out().contains("reference features from the cache"), again.out());
        assertEquals(value(run.out(), "FID"), value(again.out(), "FID"));
    }

    @Test
    void aReferenceFolderRefusesWhatItCannotUseByName(@TempDir Path dir) throws Exception {
        Path flat = dir.resolve("flat");
        png(flat.resolve("a.png"), 30, 30, 1);
        Path notImage = flat.resolve("notes.txt");
        Files.writeString(notImage, "not an image");
        Path samples = npz(dir, "samples.npz");
        DitRun bad = DitRun.of("eval", "--samples", samples.toString(), "--ref", flat.toString(), "--inception", "random:0");
        assertTrue(bad.code() != 0);
        assertTrue(bad.err().contains("--ref " + notImage + ": not a usable image"), bad.all());
        assertEquals(1, bad.err().strip().lines().count(), "one line: " + bad.err());
        try (var list = Files.list(dir)) {
            assertEquals(0, list.filter(f -> f.getFileName().toString().contains(".ref-")).count(), "no partial cache");
        }

        Path empty = Files.createDirectories(dir.resolve("empty"));
        DitRun none = DitRun.of("eval", "--samples", samples.toString(), "--ref", empty.toString(), "--inception", "random:0");
        assertTrue(none.err().contains("--ref " + empty + ": no images in the folder"), none.all());
        assertEquals(1, none.err().strip().lines().count(), "one line: " + none.err());
    }
}
