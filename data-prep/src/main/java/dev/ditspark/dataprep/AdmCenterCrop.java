package dev.ditspark.dataprep;

/**
 * ADM's center crop (docs/recipe.md, "Data"), as the reference computes it with PIL: while the short side is at least
 * 2×size, halve the image (integer halving of each side) with a box filter; then resize with bicubic so the
 * short side is size (the long side rounded half-to-even, Python's {@code round}); then cut the centre
 * size×size with floor offsets.
 *
 * <p>The resampling reproduces Pillow's {@code ImagingResample} for 8-bit images bit for bit: separable,
 * horizontal pass first, the filter support widened by the scale when shrinking (antialiasing), bicubic with
 * a = −0.5, weights normalised then turned into 22-bit fixed point, and the horizontal result rounded to
 * 8 bits before the vertical pass. Images smaller than size are enlarged the same way (ADM does too).
 */
public final class AdmCenterCrop {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private AdmCenterCrop() {
    }

    /** The size×size RGB crop of {@code image}. */
    public static RgbImage apply(RgbImage image, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("image size must be > 0, got " + size);
        }
        RgbImage im = image;
        while (Math.min(im.width(), im.height()) >= 2 * size) {
            im = resize(im, im.width() / 2, im.height() / 2, Filter.BOX);
        }
        double scale = (double) size / Math.min(im.width(), im.height());
        int w = (int) Math.rint(im.width() * scale);
        int h = (int) Math.rint(im.height() * scale);
        im = resize(im, w, h, Filter.BICUBIC);
        int x0 = (im.width() - size) / 2;
        int y0 = (im.height() - size) / 2;
        byte[] out = new byte[3 * size * size];
        for (int y = 0; y < size; y++) {
            System.arraycopy(im.pixels(), 3 * ((y0 + y) * im.width() + x0), out, 3 * y * size, 3 * size);
        }
        return new RgbImage(size, size, out);
    }

    enum Filter {
        BOX(0.5) {
            @Override
            double weight(double x) {
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            }
        },
        BICUBIC(2.0) {
            @Override
            double weight(double x) {
                double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);
    }

    /** Pillow's {@code Image.resize} of an RGB image; same size returns the image (Pillow copies it). */
    static RgbImage resize(RgbImage in, int width, int height, Filter filter) {
        RgbImage im = in;
        if (width != im.width()) {
            im = pass(im, width, filter, true);
        }
        if (height != im.height()) {
            im = pass(im, height, filter, false);
        }
        return im;
    }

    /** One separable pass along x ({@code horizontal}) or y, rounding to 8 bits. */
    private static RgbImage pass(RgbImage in, int outSize, Filter filter, boolean horizontal) {
        int inSize = horizontal ? in.width() : in.height();
        Coefficients k = Coefficients.of(inSize, outSize, filter);
        int w = horizontal ? outSize : in.width();
        int h = horizontal ? in.height() : outSize;
        byte[] src = in.pixels();
        byte[] out = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = horizontal ? x : y;
                int min = k.min[o];
                int base = o * k.size;
                for (int c = 0; c < 3; c++) {
                    long ss = 1L << (PRECISION_BITS - 1);
                    for (int i = 0; i < k.count[o]; i++) {
                        int sx = horizontal ? min + i : x;
                        int sy = horizontal ? y : min + i;
                        ss += (long) (src[3 * (sy * in.width() + sx) + c] & 0xFF) * k.weights[base + i];
                    }
                    long v = ss >> PRECISION_BITS;
                    out[3 * (y * w + x) + c] = (byte) (v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc}: per output pixel a source window and weights. */
    private record Coefficients(int size, int[] min, int[] count, int[] weights) {
        static Coefficients of(int inSize, int outSize, Filter filter) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] min = new int[outSize];
            int[] count = new int[outSize];
            int[] weights = new int[outSize * ksize];
            double[] kk = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.max(0, (int) (center - support + 0.5)); // C's (int) truncates toward zero
                int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
                double ww = 0;
                for (int x = 0; x < xmax; x++) {
                    double wgt = filter.weight((x + xmin - center + 0.5) * ss);
                    kk[x] = wgt;
                    ww += wgt;
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? kk[x] / ww : kk[x];
                    weights[xx * ksize + x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
                }
                min[xx] = xmin;
                count[xx] = xmax;
            }
            return new Coefficients(ksize, min, count, weights);
        }
    }
}
