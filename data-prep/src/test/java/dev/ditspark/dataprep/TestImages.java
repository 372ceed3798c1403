package dev.ditspark.dataprep;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Small test images written with ImageIO: RGB, grey, with alpha, JPEG/PNG, and broken ones. */
final class TestImages {
    private TestImages() {
    }

    static BufferedImage random(int w, int h, int type, long seed) {
        BufferedImage im = new BufferedImage(w, h, type);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // Smooth gradients plus noise: JPEG keeps them recognisable.
                int v = (x * 255 / w + y * 64 / h + r.nextInt(32)) & 0xFF;
                int a = type == BufferedImage.TYPE_INT_ARGB ? 128 + r.nextInt(128) : 255;
                im.setRGB(x, y, (a << 24) | (v << 16) | ((255 - v) << 8) | ((v * 7) & 0xFF));
            }
        }
        return im;
    }

    static byte[] encode(BufferedImage im, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(im, format, out)) {
            throw new IOException("no ImageIO writer for " + format);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }
}
