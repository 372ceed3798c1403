package dev.ditspark.core.sample;

import dev.ditspark.core.io.NpyHeader;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;

/**
 * Samples as images: uint8 HWC pixels (docs/diffusion.md, "Sampling output": clamp(127.5·x + 128), x in [-1, 1]), a PNG grid for
 * people and an .npz holding {@code arr_0} of shape (N, H, W, 3) uint8 for the ADM evaluation suite, plus
 * {@code labels} (N,) int64, the class each sample was asked for, when known ({@code dit eval} reads it).
 */
public final class SampleImages {
    /** The .npz array holding the requested class of each sample. */
    public static final String LABELS = "labels";
    private final byte[] pixels; // N × H × W × 3
    private final int count;
    private final int height;
    private final int width;
    private final long[] labels; // null when unknown

    private SampleImages(byte[] pixels, int count, int height, int width, long[] labels) {
        this.pixels = pixels;
        this.count = count;
        this.height = height;
        this.width = width;
        this.labels = labels;
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
        return new SampleImages(out, n, height, width, null);
    }

    public int count() {
        return count;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The same images with the class each was sampled for. */
    public SampleImages withLabels(long[] classLabels) {
        if (classLabels.length != count) {
            throw new IllegalArgumentException(classLabels.length + " labels for " + count + " samples");
        }
        return new SampleImages(pixels, count, height, width, classLabels.clone());
    }

    /**
     * The samples of {@code parts} one after another, with their labels when every part has them.
     *
     * @throws IllegalArgumentException parts of different image sizes, or no parts
     */
    public static SampleImages concat(java.util.List<SampleImages> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no samples to join");
        }
        SampleImages first = parts.get(0);
        int n = 0;
        boolean labelled = true;
        for (SampleImages p : parts) {
            if (p.height != first.height || p.width != first.width) {
                throw new IllegalArgumentException("samples of " + p.height + "x" + p.width + " and " + first.height
                        + "x" + first.width + " cannot be joined");
            }
            n += p.count;
            labelled &= p.labels != null;
        }
        int size = first.height * first.width * 3;
        byte[] out = new byte[Math.multiplyExact(n, size)];
        long[] l = labelled ? new long[n] : null;
        int at = 0;
        for (SampleImages p : parts) {
            System.arraycopy(p.pixels, 0, out, at * size, p.count * size);
            if (l != null) {
                System.arraycopy(p.labels, 0, l, at, p.count);
            }
            at += p.count;
        }
        return new SampleImages(out, n, first.height, first.width, l);
    }

    /** The samples at {@code indices}, in that order (with their labels, if recorded). */
    public SampleImages subset(int[] indices) {
        int size = height * width * 3;
        byte[] out = new byte[indices.length * size];
        long[] l = labels == null ? null : new long[indices.length];
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(pixels, indices[k] * size, out, k * size, size);
            if (l != null) {
                l[k] = labels[indices[k]];
            }
        }
        return new SampleImages(out, indices.length, height, width, l);
    }

    /** The requested class of each sample, if recorded. */
    public Optional<long[]> labels() {
        return Optional.ofNullable(labels).map(long[]::clone);
    }

    /**
     * Each sample as one channel (the mean of R, G, B: exact for samples of a grayscale model) on the data's
     * pixel scale q/127.5 − 1, N × H × W row-major.
     */
    public float[] grayscale() {
        int plane = height * width;
        float[] out = new float[count * plane];
        for (int p = 0; p < out.length; p++) {
            int sum = (pixels[3 * p] & 0xFF) + (pixels[3 * p + 1] & 0xFF) + (pixels[3 * p + 2] & 0xFF);
            out[p] = sum / 3f / 127.5f - 1f;
        }
        return out;
    }

    /** Pixel (row, col, channel) of sample i as 0..255. */
    public int pixel(int i, int row, int col, int channel) {
        return pixels[((i * height + row) * width + col) * 3 + channel] & 0xFF;
    }

    /** A grid with {@code columns} samples per row and a 2-pixel gap, as a PNG. */
    public void writeGrid(Path png, int columns) throws IOException {
        BufferedImage img = gridImage(columns);
        writeAtomically(png, out -> writePng(img, out));
    }

    /**
     * The grid as a PNG written to {@code out} (a stream of any file system; the caller closes it): sample i at
     * row i / columns, column i % columns, with a 2-pixel gap.
     */
    public void writeGrid(OutputStream out, int columns) throws IOException {
        writePng(gridImage(columns), out);
    }

    /** The grid's size in pixels, {width, height}, for {@code columns} samples per row. */
    public int[] gridSize(int columns) {
        int rows = (count + columns - 1) / columns;
        return new int[] {columns * (width + GRID_GAP) + GRID_GAP, rows * (height + GRID_GAP) + GRID_GAP};
    }

    private static final int GRID_GAP = 2;

    private BufferedImage gridImage(int columns) {
        if (columns < 1) {
            throw new IllegalArgumentException("a grid needs at least one column, got " + columns);
        }
        int[] size = gridSize(columns);
        BufferedImage img = new BufferedImage(size[0], size[1], BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < count; i++) {
            int x0 = GRID_GAP + (i % columns) * (width + GRID_GAP);
            int y0 = GRID_GAP + (i / columns) * (height + GRID_GAP);
            for (int r = 0; r < height; r++) {
                for (int c = 0; c < width; c++) {
                    int rgb = (pixel(i, r, c, 0) << 16) | (pixel(i, r, c, 1) << 8) | pixel(i, r, c, 2);
                    img.setRGB(x0 + c, y0 + r, rgb);
                }
            }
        }
        return img;
    }

    private static void writePng(BufferedImage img, OutputStream out) throws IOException {
        if (!ImageIO.write(img, "png", out)) {
            throw new IOException("no PNG writer available");
        }
    }

    /** Writes the bytes of one output file. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} under a temporary name next to it and renames it into place, so a reader (or a resumed
     * run) sees the whole file or none. The file gets the process's umask (0644 usually), not a temp file's 0600.
     */
    static void writeAtomically(Path file, Body body) throws IOException {
        Path absolute = file.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Path tmp = absolute.resolveSibling(absolute.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE), 1 << 16)) {
                body.write(out);
            }
            Files.move(tmp, absolute, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@code arr_0}: (N, H, W, 3) uint8 in NumPy's .npy v1.0 format inside a zip, as numpy.savez writes it. */
    public void writeNpz(Path npz) throws IOException {
        writeAtomically(npz, this::writeNpz);
    }

    /** The .npz of {@link #writeNpz(Path)} as bytes to {@code file} (closed at the end). */
    public void writeNpz(OutputStream file) throws IOException {
        writeNpz(file, count, height, width, 1, k -> this);
    }

    /** Part k of a sequence of samples, read when the writer reaches it. */
    @FunctionalInterface
    public interface Parts {
        SampleImages read(int k) throws IOException;
    }

    /**
     * Writes the .npz of {@code parts} samples one after another without holding them all: {@code arr_0}
     * (count, height, width, 3) uint8 streamed part by part (50,000 samples of 256 px are 9.8 GB, more than one
     * Java array holds; the zip is ZIP64 then, which numpy reads), then {@code labels} (count,) int64 when every
     * part has labels. The bytes equal those of {@link #writeNpz(OutputStream)} on the joined samples.
     *
     * @throws IOException writing failed, or the parts do not add up to count samples of height x width
     */
    public static void writeNpz(OutputStream file, long count, int height, int width, int parts, Parts read)
            throws IOException {
        long[] l = new long[Math.toIntExact(count)];
        boolean labelled = true;
        long at = 0;
        try (ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.putNextEntry(entry("arr_0.npy"));
            zip.write(npyHeader(new long[] {count, height, width, 3}, "|u1"));
            for (int k = 0; k < parts; k++) {
                SampleImages p = read.read(k);
                if (p.height != height || p.width != width || at + p.count > count) {
                    throw new IOException("part " + k + ": " + p.count + " samples of " + p.height + "x" + p.width
                            + " do not fit " + count + " samples of " + height + "x" + width + " at sample " + at);
                }
                zip.write(p.pixels, 0, p.count * height * width * 3);
                if (p.labels != null) {
                    System.arraycopy(p.labels, 0, l, (int) at, p.count);
                }
                labelled &= p.labels != null;
                at += p.count;
            }
            if (at != count) {
                throw new IOException("the parts hold " + at + " samples, expected " + count);
            }
            zip.closeEntry();
            if (labelled) {
                zip.putNextEntry(entry(LABELS + ".npy"));
                zip.write(npyHeader(new long[] {count}, "<i8"));
                ByteBuffer b = ByteBuffer.allocate(8 * l.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(l);
                zip.write(b.array());
                zip.closeEntry();
            }
        }
    }

    /** A zip entry with a fixed time, so the same samples give the same .npz bytes (a resumed run's included). */
    private static ZipEntry entry(String name) {
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(java.time.LocalDateTime.of(1980, 1, 1, 0, 0));
        return e;
    }

    /**
     * Reads an .npz with {@code arr_0} (N, H, W, 3) uint8 and, if present, {@code labels} (N,) integers, as
     * {@link #writeNpz} and numpy.savez(_compressed) write them. Errors name the file and the array.
     */
    public static SampleImages readNpz(Path npz) throws IOException {
        try (InputStream in = Files.newInputStream(npz)) {
            return readNpz(in, npz.toString());
        }
    }

    /** {@link #readNpz(Path)} from a stream; {@code npz} names it in errors. */
    public static SampleImages readNpz(InputStream in, String npz) throws IOException {
        byte[] images = null;
        long[] shape = null;
        long[] labels = null;
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().equals("arr_0.npy")) {
                    Npy a = Npy.read(zip, npz + ": arr_0");
                    if (!a.descr().equals("|u1") || a.shape().length != 4 || a.shape()[3] != 3) {
                        throw new IOException(npz + ": arr_0 must be (N, H, W, 3) uint8, found " + a.descr() + " "
                                + Arrays.toString(a.shape()));
                    }
                    images = a.data();
                    shape = a.shape();
                } else if (e.getName().equals(LABELS + ".npy")) {
                    Npy a = Npy.read(zip, npz + ": " + LABELS);
                    labels = a.integers(npz + ": " + LABELS);
                }
            }
        }
        if (images == null) {
            throw new IOException(npz + ": no arr_0 array (expected the samples, (N, H, W, 3) uint8)");
        }
        int n = Math.toIntExact(shape[0]);
        if (labels != null && labels.length != n) {
            throw new IOException(npz + ": " + labels.length + " labels for " + n + " samples in arr_0");
        }
        return new SampleImages(images, n, Math.toIntExact(shape[1]), Math.toIntExact(shape[2]), labels);
    }

    /** One .npy array: its dtype string, shape and raw little-endian bytes (C order); the header by {@link NpyHeader}. */
    private record Npy(String descr, long[] shape, byte[] data) {
        static Npy read(InputStream in, String what) throws IOException {
            DataInputStream d = new DataInputStream(in);
            NpyHeader h = NpyHeader.read(d, what);
            long bytes = Math.multiplyExact(h.elements(), h.itemSize());
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new IOException(what + ": " + Arrays.toString(h.shape()) + " is " + bytes + " bytes, more than this "
                        + "reader holds at once (2 GB); split the samples into several .npz files");
            }
            byte[] data = new byte[(int) bytes];
            try {
                d.readFully(data);
            } catch (EOFException e) {
                throw new IOException(what + ": truncated, expected " + data.length + " bytes of data", e);
            }
            return new Npy(h.descr(), h.shape(), data);
        }

        /** The array as int64, from little-endian signed integers of 1, 2, 4 or 8 bytes (1-d). */
        long[] integers(String what) throws IOException {
            if (shape.length != 1 || descr.length() < 3 || descr.charAt(1) != 'i' || descr.charAt(0) == '>') {
                throw new IOException(what + ": expected a 1-d little-endian integer array, found " + descr + " "
                        + Arrays.toString(shape));
            }
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            long[] out = new long[Math.toIntExact(shape[0])];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (data.length / out.length) {
                    case 1 -> b.get();
                    case 2 -> b.getShort();
                    case 4 -> b.getInt();
                    case 8 -> b.getLong();
                    default -> throw new IOException(what + ": unsupported integer type " + descr);
                };
            }
            return out;
        }
    }

    /** The .npy v1.0 header of an array ({@link NpyHeader}). */
    static byte[] npyHeader(long[] shape, String descr) {
        return new NpyHeader(descr, shape).toBytes();
    }
}
