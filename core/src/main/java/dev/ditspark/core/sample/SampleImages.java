package dev.ditspark.core.sample;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;

/**
 * Samples as images: uint8 HWC pixels (DIT_SPEC §4: clamp(127.5·x + 128), x in [-1, 1]), a PNG grid for
 * people and an .npz holding {@code arr_0} of shape (N, H, W, 3) uint8 for the ADM evaluation suite.
 */
public final class SampleImages {
    private final byte[] pixels; // N × H × W × 3
    private final int count;
    private final int height;
    private final int width;

    private SampleImages(byte[] pixels, int count, int height, int width) {
        this.pixels = pixels;
        this.count = count;
        this.height = height;
        this.width = width;
    }

    /**
     * From decoded samples (N, C, H, W) as a flat CHW-per-sample float array; C = 3 is RGB, C = 1 is
     * grayscale (copied to the three channels).
     */
    public static SampleImages fromPixels(float[] nchw, int n, int channels, int height, int width) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("samples must have 1 or 3 channels to be images, got " + channels);
        }
        byte[] out = new byte[n * height * width * 3];
        int plane = height * width;
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    float v = nchw[(i * channels + (channels == 1 ? 0 : c)) * plane + p];
                    // The reference's uint8 conversion: clamp(127.5·x + 128, 0, 255), truncated.
                    int q = (int) Math.max(0, Math.min(255, 127.5f * v + 128f));
                    out[(i * plane + p) * 3 + c] = (byte) q;
                }
            }
        }
        return new SampleImages(out, n, height, width);
    }

    public int count() {
        return count;
    }

    /** Pixel (row, col, channel) of sample i as 0..255. */
    public int pixel(int i, int row, int col, int channel) {
        return pixels[((i * height + row) * width + col) * 3 + channel] & 0xFF;
    }

    /** A grid with {@code columns} samples per row and a 2-pixel gap, as a PNG. */
    public void writeGrid(Path png, int columns) throws IOException {
        int rows = (count + columns - 1) / columns;
        int gap = 2;
        BufferedImage img = new BufferedImage(columns * (width + gap) + gap, rows * (height + gap) + gap,
                BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < count; i++) {
            int x0 = gap + (i % columns) * (width + gap);
            int y0 = gap + (i / columns) * (height + gap);
            for (int r = 0; r < height; r++) {
                for (int c = 0; c < width; c++) {
                    int rgb = (pixel(i, r, c, 0) << 16) | (pixel(i, r, c, 1) << 8) | pixel(i, r, c, 2);
                    img.setRGB(x0 + c, y0 + r, rgb);
                }
            }
        }
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }

    /** {@code arr_0}: (N, H, W, 3) uint8 in NumPy's .npy v1.0 format inside a zip, as numpy.savez writes it. */
    public void writeNpz(Path npz) throws IOException {
        if (npz.getParent() != null) {
            Files.createDirectories(npz.getParent());
        }
        try (OutputStream file = Files.newOutputStream(npz); ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.putNextEntry(new ZipEntry("arr_0.npy"));
            zip.write(npyHeader(new long[] {count, height, width, 3}, "|u1"));
            zip.write(pixels);
            zip.closeEntry();
        }
    }

    /** The .npy v1.0 header: magic, version, little-endian u16 length, a Python dict padded to 64 bytes with "\n". */
    static byte[] npyHeader(long[] shape, String descr) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int preamble = 10; // 6 magic + 2 version + 2 length
        int total = ((preamble + dict.length() + 1 + 63) / 64) * 64;
        String padded = dict + " ".repeat(total - preamble - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) padded.length());
        b.put(padded.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }
}
