package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.data.FashionMnist.Images;
import dev.ditspark.core.data.FashionMnist.Split;
import dev.ditspark.core.data.LatentSubset.Sample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the files of Debian's dataset-fashion-mnist, which bin/setup installs. */
class FashionMnistTest {

    @TempDir
    Path dir;

    @Test
    void importedTrainingImagesHaveLabelsPixelsAndMirrors() throws Exception {
        String uri = dir.resolve("fmnist").toUri().toString();
        DatasetManifest m = FashionMnist.installed().importTo(uri, Split.TRAIN, 1000);
        assertEquals(1000, m.count());
        assertEquals("none", m.encoder());
        assertEquals(1.0, m.scaleFactor());
        assertEquals(LatentDType.FLOAT32, m.dtype());
        assertEquals(FashionMnist.CLASS_NAMES, m.classNames());
        assertEquals("Ankle boot", m.classNames().get(9));
        assertEquals(1, m.channels());
        assertEquals(28, m.height());
        assertEquals(28, m.imageSize());

        LatentDataset ds = LatentDataset.open(uri);
        assertEquals(m, ds.manifest());
        LatentSubset all = ds.loadAll();
        Images raw = FashionMnist.installed().readImages(Split.TRAIN, 1000);
        int[] perClass = new int[10];
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int i = 0; i < all.size(); i++) {
            Sample s = all.get(i);
            assertTrue(s.label() >= 0 && s.label() < 10);
            assertEquals(raw.labels()[i], s.label());
            perClass[s.label()]++;
            assertArrayEquals(raw.image(i), s.mean(), 0f);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    assertEquals(s.mean()[y * 28 + x], s.meanFlip()[y * 28 + 27 - x], 0f);
                }
            }
            for (int j = 0; j < 784; j++) {
                assertEquals(0f, s.std()[j]);
                assertEquals(0f, s.stdFlip()[j]);
                min = Math.min(min, s.mean()[j]);
                max = Math.max(max, s.mean()[j]);
            }
        }
        assertEquals(-1f, min); // black background
        assertTrue(max > 0.9f && max <= 1f, "max " + max);
        for (int c = 0; c < 10; c++) {
            // 100 per class if perfectly even; the release's order is random, so allow a wide margin.
            assertTrue(perClass[c] > 60 && perClass[c] < 140, "class " + c + ": " + perClass[c]);
        }
    }

    @Test
    void pixelsAreScaledFromBytes() throws Exception {
        Images test = FashionMnist.installed().readImages(Split.TEST, 50);
        assertEquals(50, test.count());
        for (float p : test.pixels()) {
            // x/127.5 − 1 of a byte x: (p + 1)·127.5 is a whole number in 0..255
            double x = (p + 1) * 127.5;
            assertEquals(Math.rint(x), x, 1e-3);
            assertTrue(x >= -1e-3 && x <= 255 + 1e-3);
        }
        assertEquals(10_000, FashionMnist.installed().readImages(Split.TEST, Integer.MAX_VALUE).count());
    }

    @Test
    void aMissingPackageSaysHowToInstallIt() {
        var e = assertThrows(IOException.class, () -> FashionMnist.at(dir.resolve("nowhere")).readImages(Split.TRAIN, 1));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void aFileThatIsNotIdxIsRefused() throws Exception {
        Path fake = Files.createDirectories(dir.resolve("fake"));
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
            try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(fake.resolve(f)))) {
                out.write(new byte[] {0, 0, 0x08, 0x01, 0, 0, 0, 0}); // magic 2049 in both: wrong for images
            }
        }
        var e = assertThrows(IOException.class, () -> FashionMnist.at(fake).readImages(Split.TRAIN, 1));
        assertTrue(e.getMessage().contains("magic number 2049, expected 2051"), e.getMessage());
    }

    @Test
    void mirrorReversesEachRow() {
        assertArrayEquals(new float[] {2, 1, 0, 5, 4, 3}, FashionMnist.mirror(new float[] {0, 1, 2, 3, 4, 5}, 2, 3));
    }
}
