package dev.ditspark.dataprep;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes JPEG and PNG bytes (anything javax.imageio reads) to 8-bit RGB the way the reference's
 * {@code Image.open(f).convert("RGB")} does: grey is replicated to the three channels, alpha is dropped (PIL
 * does not composite), palettes are looked up, 16-bit samples keep their high byte. CMYK JPEGs, which ImageIO
 * cannot turn into a BufferedImage, are read as a raw raster and converted as Adobe writes them (inverted
 * CMYK). Anything else fails with {@link BadImageException} saying why; the caller reports it and goes on.
 */
public final class ImageDecoder {
    private ImageDecoder() {
    }

    /** Thrown for bytes that are not a readable image; the message is the reason put in the report. */
    public static final class BadImageException extends Exception {
        private static final long serialVersionUID = 1L;

        public BadImageException(String reason, Throwable cause) {
            super(reason, cause);
        }
    }

    public static RgbImage decode(byte[] bytes) throws BadImageException {
        ImageReader reader = null;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImageException("not an image ImageIO can read (no JPEG/PNG signature)", null);
            }
            reader = readers.next();
            reader.setInput(in, true, true);
            // A truncated JPEG is only a warning to ImageIO (it fills the rest with grey); PIL refuses it, so do we.
            java.util.List<String> warnings = new java.util.ArrayList<>();
            reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
            String format = reader.getFormatName();
            BufferedImage image;
            try {
                image = reader.read(0);
            } catch (javax.imageio.IIOException e) {
                if ("jpeg".equalsIgnoreCase(format) && String.valueOf(e.getMessage()).contains("Unsupported Image Type")) {
                    return fromCmyk(reader.readRaster(0, null)); // CMYK/YCCK JPEG: no BufferedImage type
                }
                throw e;
            }
            if (!warnings.isEmpty()) {
                throw new BadImageException("corrupt or truncated image: " + warnings.get(0), null);
            }
            return toRgb(image);
        } catch (BadImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Truncated or corrupt data surfaces as IIOException, EOFException or (inside the codecs) runtime errors.
            throw new BadImageException("corrupt or truncated image: " + e, e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
    }

    private static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = new byte[3 * w * h];
        Raster r = image.getRaster();
        int bands = r.getNumBands();
        boolean indexed = image.getColorModel() instanceof IndexColorModel;
        if (!indexed && bands <= 2) {
            // Grey (± alpha): read the samples, not getRGB, which would convert linear grey to sRGB.
            int bits = image.getColorModel().getComponentSize(0);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = bits > 8 ? row[x] >>> (bits - 8) : bits < 8 ? row[x] * 255 / ((1 << bits) - 1) : row[x];
                    int o = 3 * (y * w + x);
                    out[o] = out[o + 1] = out[o + 2] = (byte) v;
                }
            }
            return new RgbImage(w, h, out);
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < argb.length; i++) {
            out[3 * i] = (byte) (argb[i] >> 16);
            out[3 * i + 1] = (byte) (argb[i] >> 8);
            out[3 * i + 2] = (byte) argb[i];
        }
        return new RgbImage(w, h, out);
    }

    /** Adobe CMYK JPEGs store inverted ink (255 − C); RGB = (255 − C)(255 − K)/255 per channel, as PIL's cmyk2rgb. */
    private static RgbImage fromCmyk(Raster r) throws BadImageException {
        if (r.getNumBands() != 4) {
            throw new BadImageException("JPEG with " + r.getNumBands() + " colour components is not supported", null);
        }
        int w = r.getWidth();
        int h = r.getHeight();
        byte[] out = new byte[3 * w * h];
        int[] px = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(r.getMinX() + x, r.getMinY() + y, px);
                int k = px[3];
                for (int c = 0; c < 3; c++) {
                    out[3 * (y * w + x) + c] = (byte) ((px[c] * k + 127) / 255);
                }
            }
        }
        return new RgbImage(w, h, out);
    }
}
