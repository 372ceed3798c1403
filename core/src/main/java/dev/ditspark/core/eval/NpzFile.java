package dev.ditspark.core.eval;

import dev.ditspark.core.io.NpyHeader;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Random access to the arrays of a NumPy .npz (numpy.savez / savez_compressed; zip64 included), so that a 50K
 * × 256 × 256 × 3 {@code arr_0} (9.8 GB) is streamed in batches and the small arrays of ADM's reference batch
 * ({@code mu}, {@code sigma}, {@code mu_s}, {@code sigma_s}) are read without passing over it. Errors name the
 * file and the array.
 */
public final class NpzFile implements AutoCloseable {
    private final Path path;
    private final ZipFile zip;

    private NpzFile(Path path, ZipFile zip) {
        this.path = path;
        this.zip = zip;
    }

    public static NpzFile open(Path path) throws IOException {
        try {
            return new NpzFile(path, new ZipFile(path.toFile()));
        } catch (java.util.zip.ZipException e) {
            throw new IOException(path + ": not an .npz file (" + e.getMessage() + ")", e);
        }
    }

    public Path path() {
        return path;
    }

    public boolean contains(String name) {
        return zip.getEntry(name + ".npy") != null;
    }

    private InputStream stream(String name) throws IOException {
        ZipEntry e = zip.getEntry(name + ".npy");
        if (e == null) {
            throw new IOException(path + ": no array '" + name + "'");
        }
        return zip.getInputStream(e);
    }

    private NpyHeader readHeader(DataInputStream d, String name) throws IOException {
        return NpyHeader.read(d, path + ": " + name);
    }

    public NpyHeader header(String name) throws IOException {
        try (DataInputStream d = new DataInputStream(stream(name))) {
            return readHeader(d, name);
        }
    }

    /** A float array ({@code <f8} or {@code <f4}) as float64, with its shape checked against {@code expected}. */
    public double[] doubles(String name, long... expected) throws IOException {
        try (DataInputStream d = new DataInputStream(stream(name))) {
            NpyHeader h = readHeader(d, name);
            if (!Arrays.equals(h.shape(), expected)) {
                throw new IOException(path + ": " + name + " has shape " + Arrays.toString(h.shape()) + ", expected "
                        + Arrays.toString(expected));
            }
            if (!h.descr().equals("<f8") && !h.descr().equals("<f4")) {
                throw new IOException(path + ": " + name + " must be float64 or float32, found " + h.descr());
            }
            ByteBuffer b = ByteBuffer.wrap(readFully(d, Math.multiplyExact(h.elements(), h.itemSize()), name))
                    .order(ByteOrder.LITTLE_ENDIAN);
            double[] out = new double[Math.toIntExact(h.elements())];
            for (int i = 0; i < out.length; i++) {
                out[i] = h.itemSize() == 8 ? b.getDouble() : b.getFloat();
            }
            return out;
        }
    }

    /** A float32 array of the given shape. */
    public float[] floats(String name, long... expected) throws IOException {
        try (DataInputStream d = new DataInputStream(stream(name))) {
            NpyHeader h = readHeader(d, name);
            if (!Arrays.equals(h.shape(), expected) || !h.descr().equals("<f4")) {
                throw new IOException(path + ": " + name + " is " + h.descr() + " " + Arrays.toString(h.shape())
                        + ", expected <f4 " + Arrays.toString(expected));
            }
            ByteBuffer b = ByteBuffer.wrap(readFully(d, h.elements() * 4, name)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[Math.toIntExact(h.elements())];
            b.asFloatBuffer().get(out);
            return out;
        }
    }

    private byte[] readFully(DataInputStream d, long bytes, String name) throws IOException {
        byte[] data = new byte[Math.toIntExact(bytes)];
        try {
            d.readFully(data);
        } catch (EOFException e) {
            throw new IOException(path + ": " + name + " is truncated, expected " + bytes + " bytes of data", e);
        }
        return data;
    }

    /**
     * Checks that {@code name} holds (N, H, W, 3) uint8 images (N ≥ 1) without reading them, so bad input is
     * refused before any work.
     *
     * @return its shape
     */
    public long[] checkImages(String name) throws IOException {
        NpyHeader h = header(name);
        long[] s = h.shape();
        if (!h.descr().equals("|u1") || s.length != 4 || s[3] != 3 || s[0] < 1) {
            throw new IOException(path + ": " + name + " must be (N, H, W, 3) uint8 images, found " + h.descr() + " "
                    + Arrays.toString(s));
        }
        return s;
    }

    /** Receives consecutive batches of (count, height, width, 3) uint8 images. */
    public interface ImageBatches {
        void accept(byte[] nhwc, int count, int height, int width) throws IOException;
    }

    /**
     * Streams {@code name} ((N, H, W, 3) uint8, as {@code arr_0} of a samples .npz) in batches of {@code batch}
     * images, without holding the whole array.
     *
     * @return N
     */
    public int streamImages(String name, int batch, ImageBatches sink) throws IOException {
        try (DataInputStream d = new DataInputStream(new java.io.BufferedInputStream(stream(name), 1 << 20))) {
            NpyHeader h = readHeader(d, name);
            long[] s = h.shape();
            if (!h.descr().equals("|u1") || s.length != 4 || s[3] != 3) {
                throw new IOException(path + ": " + name + " must be (N, H, W, 3) uint8 images, found " + h.descr() + " "
                        + Arrays.toString(s));
            }
            int n = Math.toIntExact(s[0]);
            int height = Math.toIntExact(s[1]);
            int width = Math.toIntExact(s[2]);
            int per = Math.multiplyExact(Math.multiplyExact(height, width), 3);
            for (int start = 0; start < n; start += batch) {
                int count = Math.min(batch, n - start);
                sink.accept(readFully(d, (long) count * per, name), count, height, width);
            }
            return n;
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }

    /**
     * Writes float arrays ({@code float[]} as {@code <f4}, {@code double[]} as {@code <f8}) with their shapes as an
     * uncompressed .npz numpy.load reads, atomically (a temporary file moved into place).
     */
    public static void write(Path npz, Map<String, Object> arrays, Map<String, long[]> shapes) throws IOException {
        Path tmp = npz.resolveSibling(npz.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
                ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, Object> e : new LinkedHashMap<>(arrays).entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
                entry.setTimeLocal(java.time.LocalDateTime.of(1980, 1, 1, 0, 0));
                z.putNextEntry(entry);
                long[] shape = shapes.get(e.getKey());
                if (e.getValue() instanceof float[] f) {
                    z.write(new NpyHeader("<f4", shape).toBytes());
                    ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(f);
                    z.write(b.array());
                } else if (e.getValue() instanceof double[] f) {
                    z.write(new NpyHeader("<f8", shape).toBytes());
                    ByteBuffer b = ByteBuffer.allocate(8 * f.length).order(ByteOrder.LITTLE_ENDIAN);
                    b.asDoubleBuffer().put(f);
                    z.write(b.array());
                } else {
                    throw new IllegalArgumentException(e.getKey() + ": only float[] and double[] are written");
                }
                z.closeEntry();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, npz, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
