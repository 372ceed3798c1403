package dev.ditspark.dataprep;

/** An 8-bit RGB image, row-major, 3 bytes per pixel (R, G, B): what PIL's {@code convert("RGB")} holds. */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0 || pixels.length != 3 * width * height) {
            throw new IllegalArgumentException("RGB image " + width + "x" + height + " needs " + 3L * width * height
                    + " bytes, got " + pixels.length);
        }
    }

    /** Channel {@code c} of pixel (x, y) as 0..255. */
    public int get(int x, int y, int c) {
        return pixels[3 * (y * width + x) + c] & 0xFF;
    }

    /**
     * The image as (3, H, W) floats in [-1, 1] (x/127.5 − 1, as ToTensor then Normalize(0.5, 0.5)), written into
     * {@code out} at {@code offset}; {@code mirror} reads it flipped left-right.
     */
    public void toUnitRange(float[] out, int offset, boolean mirror) {
        int plane = width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int src = 3 * (y * width + (mirror ? width - 1 - x : x));
                int dst = offset + y * width + x;
                for (int c = 0; c < 3; c++) {
                    out[dst + c * plane] = (pixels[src + c] & 0xFF) / 127.5f - 1f;
                }
            }
        }
    }
}
