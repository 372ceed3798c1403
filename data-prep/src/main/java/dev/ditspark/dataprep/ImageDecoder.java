package dev.ditspark.dataprep;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * Decodes JPEG and PNG bytes (anything javax.imageio reads) to 8-bit RGB with the values the reference's
 * {@code Image.open(f).convert("RGB")} (Pillow) gives, pinned by the fixtures of
 * {@code tools/reference/make_image_fixtures.py}:
 * <ul>
 * <li>samples are taken as stored, never colour-managed (Pillow ignores ICC profiles and gAMA; ImageIO's
 *     {@code getRGB} would convert them);</li>
 * <li>grey is replicated to the three channels; 1/2/4-bit grey is scaled to 0..255; 16-bit grey is
 *     <em>clipped</em> to 255 as Pillow's mode {@code I;16} does (not scaled); 16-bit colour keeps its high byte;</li>
 * <li>alpha and tRNS transparency are dropped (Pillow does not composite); palettes are looked up;</li>
 * <li>four-component JPEGs are read as a raw raster (JDK 17's reader would convert them itself, through the
 *     file's ICC profile, to other colours) and converted as Pillow does: the samples are taken as inverted
 *     (Adobe) CMYK, with or without the Adobe marker; YCCK is first turned back into CMYK with libjpeg's integer
 *     tables; then RGB = (255 − K) − (C·(255 − K))/255 with Pillow's rounding ({@code cmyk2rgb}).</li>
 * </ul>
 * Pillow's decompression-bomb rule applies to the size in the header, read before any pixel: more than
 * {@value #MAX_IMAGE_PIXELS} pixels warns, more than twice that is refused. A warned image is read subsampled
 * (every k-th pixel, k a power of two keeping it under the limit and its short side at least twice the crop)
 * so that memory stays bounded; this departs from Pillow, which box-filters: the warning says so and the
 * caller lists it in the report. Anything unreadable fails with {@link BadImageException} saying why; the
 * caller reports it and goes on.
 */
public final class ImageDecoder {
    /** Pillow's {@code Image.MAX_IMAGE_PIXELS}: {@code 1024 · 1024 · 1024 // 4 // 3}. */
    public static final long MAX_IMAGE_PIXELS = 1024L * 1024 * 1024 / 4 / 3;

    private ImageDecoder() {
    }

    /** Thrown for bytes that are not a usable image; the message is the reason put in the report. */
    public static final class BadImageException extends Exception {
        private static final long serialVersionUID = 1L;

        public BadImageException(String reason, Throwable cause) {
            super(reason, cause);
        }
    }

    /**
     * A decoded image and, when it was not decoded as Pillow would, why (else null).
     *
     * @param image the RGB pixels
     * @param warning e.g. the decompression-bomb subsampling; null when the pixels are Pillow's
     */
    public record Decoded(RgbImage image, String warning) {
    }

    /** {@link #decode(byte[], int)} without a crop size (a warned image is subsampled only under the limit). */
    public static RgbImage decode(byte[] bytes) throws BadImageException {
        return decode(bytes, 0).image();
    }

    /**
     * Decodes {@code bytes}; {@code cropSize} (pixels, 0 if none) bounds the subsampling of a very large image so
     * its short side stays at least twice the crop.
     *
     * @throws BadImageException unreadable, truncated, an unsupported colour form, or over Pillow's pixel limit
     */
    public static Decoded decode(byte[] bytes, int cropSize) throws BadImageException {
        ImageReader reader = null;
        long pixels = -1;
        String size = "?";
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImageException("not an image ImageIO can read (no JPEG/PNG signature)", null);
            }
            reader = readers.next();
            reader.setInput(in, true, false);
            // A truncated JPEG is only a warning to ImageIO (it fills the rest with grey); Pillow refuses it, so do we.
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            pixels = (long) w * h;
            size = w + "x" + h;
            if (pixels > 2 * MAX_IMAGE_PIXELS) {
                throw new BadImageException(String.format(Locale.ROOT, "decompression bomb: %s = %,d pixels is more "
                        + "than twice Pillow's limit of %,d (Image.MAX_IMAGE_PIXELS); Pillow refuses it too", size, pixels,
                        MAX_IMAGE_PIXELS), null);
            }
            int k = subsampling(w, h, cropSize);
            String warning = null;
            ImageReadParam param = reader.getDefaultReadParam();
            if (pixels > MAX_IMAGE_PIXELS) {
                warning = String.format(Locale.ROOT, "%s = %,d pixels is above Pillow's decompression-bomb warning "
                        + "limit of %,d; %s", size, pixels, MAX_IMAGE_PIXELS, k > 1
                        ? "read at 1/" + k + " resolution (every " + k + "th pixel) to bound memory, so its crop differs "
                        + "slightly from Pillow's (which box-filters the full image)" : "decoded at full size");
                param.setSourceSubsampling(k, k, 0, 0);
            }
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            int[] jpeg = format.equals("jpeg") ? jpegComponents(reader.getImageMetadata(0)) : null;
            RgbImage rgb;
            if (jpeg != null && jpeg[0] == 4) {
                rgb = fromCmyk(reader.readRaster(0, param), jpeg[1] == 2);
            } else {
                BufferedImage image;
                try {
                    image = reader.read(0, param);
                } catch (IIOException e) {
                    if (String.valueOf(e.getMessage()).contains("Unsupported Image Type")) {
                        throw new BadImageException("colour form ImageIO cannot read: " + e.getMessage(), e);
                    }
                    throw e;
                }
                rgb = toRgb(image);
            }
            if (!warnings.isEmpty()) {
                throw new BadImageException("corrupt or truncated image: " + warnings.get(0), null);
            }
            return new Decoded(rgb, warning);
        } catch (BadImageException e) {
            throw e;
        } catch (OutOfMemoryError e) {
            // One image must never end the executor: the one huge array that failed is garbage again.
            throw new BadImageException("too large to decode in this executor's memory (" + size + " = " + pixels
                    + " pixels, heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB); raise spark.executor.memory "
                    + "(dit prepare --executor-memory) or shrink the image", null);
        } catch (IOException | RuntimeException e) {
            // Truncated or corrupt data surfaces as IIOException, EOFException or (inside the codecs) runtime errors.
            throw new BadImageException("corrupt or truncated image: " + e, e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
    }

    /** The power of two k ≥ 1 that brings w·h under the limit, without taking the short side below 2·cropSize. */
    static int subsampling(int w, int h, int cropSize) {
        int k = 1;
        while ((long) (w / k) * (h / k) > MAX_IMAGE_PIXELS && Math.min(w, h) / (2 * k) >= 2 * Math.max(cropSize, 1)) {
            k *= 2;
        }
        return k;
    }

    /** {components, Adobe transform (−1 without the marker)} from the JPEG's native metadata; null if absent. */
    private static int[] jpegComponents(IIOMetadata meta) {
        if (meta == null) {
            return null;
        }
        Node root = meta.getAsTree("javax_imageio_jpeg_image_1.0");
        int components = -1;
        int transform = -1;
        for (Node seq = root.getFirstChild(); seq != null; seq = seq.getNextSibling()) {
            if (!seq.getNodeName().equals("markerSequence")) {
                continue;
            }
            for (Node m = seq.getFirstChild(); m != null; m = m.getNextSibling()) {
                if (m.getNodeName().equals("sof")) {
                    components = m.getChildNodes().getLength();
                } else if (m.getNodeName().equals("app14Adobe")) {
                    Node t = m.getAttributes().getNamedItem("transform");
                    transform = t == null ? 0 : Integer.parseInt(t.getNodeValue());
                }
            }
        }
        return components < 0 ? null : new int[] {components, transform};
    }

    private static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = new byte[3 * w * h];
        Raster r = image.getRaster();
        int[] row = new int[w];
        if (image.getColorModel() instanceof IndexColorModel cm) {
            // Palette (± tRNS alpha): the palette's RGB, alpha dropped.
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int o = 3 * (y * w + x);
                    out[o] = (byte) cm.getRed(row[x]);
                    out[o + 1] = (byte) cm.getGreen(row[x]);
                    out[o + 2] = (byte) cm.getBlue(row[x]);
                }
            }
            return new RgbImage(w, h, out);
        }
        int bands = r.getNumBands();
        int bits = r.getSampleModel().getSampleSize(0);
        if (bands <= 2) {
            // Grey (± alpha). Pillow opens 16-bit grey as I;16 and clips to 255; with alpha (LA;16B) it keeps the high byte.
            boolean clip16 = bits == 16 && bands == 1;
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = row[x];
                    v = clip16 ? Math.min(v, 255) : bits > 8 ? v >>> (bits - 8) : bits < 8 ? v * 255 / ((1 << bits) - 1) : v;
                    int o = 3 * (y * w + x);
                    out[o] = out[o + 1] = out[o + 2] = (byte) v;
                }
            }
            return new RgbImage(w, h, out);
        }
        // Colour (± alpha): the stored R, G, B samples, whatever the colour space says.
        for (int c = 0; c < 3; c++) {
            int shift = Math.max(0, r.getSampleModel().getSampleSize(c) - 8);
            for (int y = 0; y < h; y++) {
                r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, c, row);
                for (int x = 0; x < w; x++) {
                    out[3 * (y * w + x) + c] = (byte) (row[x] >>> shift);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    // libjpeg's YCC tables (jdcolor.c): SCALEBITS 16, FIX(x) = round(x · 2^16).
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * A four-component JPEG's raw samples to RGB as Pillow does: YCCK → CMYK as libjpeg's {@code ycck_cmyk_convert};
     * then Pillow's rawmode {@code CMYK;I} (it assumes Adobe's inverted samples for every CMYK JPEG) and
     * {@code cmyk2rgb}: nk = 255 − K, out = nk − MULDIV255(C, nk).
     */
    private static RgbImage fromCmyk(Raster r, boolean ycck) throws BadImageException {
        if (r.getNumBands() != 4) {
            throw new BadImageException("JPEG with " + r.getNumBands() + " colour components is not supported", null);
        }
        int w = r.getWidth();
        int h = r.getHeight();
        byte[] out = new byte[3 * w * h];
        int[] px = new int[4];
        int[] cmyk = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(r.getMinX() + x, r.getMinY() + y, px);
                if (ycck) {
                    int yy = px[0];
                    int cb = px[1];
                    int cr = px[2];
                    cmyk[0] = clamp(255 - (yy + CR_R[cr]));
                    cmyk[1] = clamp(255 - (yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS)));
                    cmyk[2] = clamp(255 - (yy + CB_B[cb]));
                    cmyk[3] = px[3];
                } else {
                    System.arraycopy(px, 0, cmyk, 0, 4);
                }
                int nk = cmyk[3]; // inverted K: 255 − (255 − stored)
                for (int c = 0; c < 3; c++) {
                    int ink = 255 - cmyk[c];
                    int t = ink * nk + 128;
                    out[3 * (y * w + x) + c] = (byte) clamp(nk - (((t >> 8) + t) >> 8));
                }
            }
        }
        return new RgbImage(w, h, out);
    }
}
