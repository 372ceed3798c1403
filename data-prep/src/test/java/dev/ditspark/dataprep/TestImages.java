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

    /**
     * An 8-bit RGB PNG of w×h written row by row (never held whole in memory): a diagonal gradient, which deflates
     * to little (a 12000² image is about 3 MB).
     */
    static byte[] bigPng(int w, int h) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat,
                new java.util.zip.Deflater(6), 1 << 16)) {
            byte[] row = new byte[1 + 3 * w];
            for (int y = 0; y < h; y++) {
                row[0] = 0;
                for (int x = 0; x < w; x++) {
                    int v = ((x + y) >> 4) & 0xFF;
                    row[1 + 3 * x] = (byte) v;
                    row[2 + 3 * x] = (byte) (255 - v);
                    row[3 + 3 * x] = (byte) (y >> 6);
                }
                z.write(row);
            }
        }
        return png(w, h, idat.toByteArray());
    }

    /**
     * A PNG whose header says w×h but whose data holds one row: what a decoder that checks the size before any
     * pixel (as Pillow's decompression-bomb rule does) must refuse by the header alone.
     */
    static byte[] pngHeaderOnly(int w, int h) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat)) {
            z.write(new byte[1 + 3 * w]);
        }
        return png(w, h, idat.toByteArray());
    }

    private static byte[] png(int w, int h, byte[] idat) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        java.io.DataOutputStream d = new java.io.DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
