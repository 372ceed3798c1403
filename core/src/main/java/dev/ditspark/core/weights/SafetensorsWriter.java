package dev.ditspark.core.weights;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Collects tensors and streams them out as one safetensors file.
 *
 * <p>Nothing is copied when a tensor is added: arrays and buffers are read during {@link #write},
 * in 1 MiB chunks, and lazily supplied tensors are fetched one at a time, so a model larger than
 * 2 GiB (or than free memory twice over) can be written. Do not modify added arrays before writing.
 *
 * <p>Output is deterministic: metadata and tensor names appear sorted in the header, which is
 * padded with spaces to a multiple of 8 bytes; in the data section tensors are ordered by element
 * size (largest first), then name, so every tensor starts at a multiple of its element size and can
 * be mapped in place.
 */
public final class SafetensorsWriter {

    /** Writes exactly a tensor's bytes, little-endian; called once per {@link #write}. */
    @FunctionalInterface
    public interface BytesProducer {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int CHUNK_BYTES = 1 << 20;
    private static final Set<TensorDType> FLOAT_TARGETS = EnumSet.of(TensorDType.F32, TensorDType.F16, TensorDType.BF16);

    private final Map<String, String> metadata;
    private final Map<String, Entry> entries = new TreeMap<>();

    public SafetensorsWriter() {
        this(Map.of());
    }

    /** @param metadata the {@code __metadata__} map (omitted from the file when empty) */
    public SafetensorsWriter(Map<String, String> metadata) {
        // Sorted, so a Map.of() (iteration order varies per JVM) still gives identical bytes.
        this.metadata = new TreeMap<>(metadata);
    }

    /** Adds floats stored as {@code dtype}: F32, or F16/BF16 rounded to nearest, ties to even. */
    public SafetensorsWriter add(String name, TensorDType dtype, long[] shape, float[] data) {
        if (!FLOAT_TARGETS.contains(dtype)) {
            throw new IllegalArgumentException("tensor '" + name + "': float[] data can be stored as "
                    + FLOAT_TARGETS + ", not " + dtype);
        }
        checkLength(name, shape, data.length);
        return put(name, dtype, shape, (out, scratch) -> writeFloats(out, scratch, dtype, data));
    }

    /** Adds a F64 tensor. */
    public SafetensorsWriter add(String name, long[] shape, double[] data) {
        checkLength(name, shape, data.length);
        return put(name, TensorDType.F64, shape, (out, scratch) -> {
            for (int i = 0; i < data.length; ) {
                int n = Math.min(scratch.capacity() / 8, data.length - i);
                scratch.clear();
                scratch.asDoubleBuffer().put(data, i, n);
                out.write(scratch.array(), 0, n * 8);
                i += n;
            }
        });
    }

    /** Adds an I64 tensor. */
    public SafetensorsWriter add(String name, long[] shape, long[] data) {
        checkLength(name, shape, data.length);
        return put(name, TensorDType.I64, shape, (out, scratch) -> {
            for (int i = 0; i < data.length; ) {
                int n = Math.min(scratch.capacity() / 8, data.length - i);
                scratch.clear();
                scratch.asLongBuffer().put(data, i, n);
                out.write(scratch.array(), 0, n * 8);
                i += n;
            }
        });
    }

    /**
     * Adds a tensor from its little-endian bytes: the buffer's remaining bytes, which must be
     * exactly shape × dtype size. The buffer's position is not moved.
     */
    public SafetensorsWriter addRaw(String name, TensorDType dtype, long[] shape, ByteBuffer littleEndianBytes) {
        ByteBuffer view = littleEndianBytes.duplicate();
        long expected = TensorInfo.byteLength(dtype, shape);
        if (view.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': " + view.remaining() + " bytes given but "
                    + dtype + Arrays.toString(shape) + " needs " + expected);
        }
        return put(name, dtype, shape, (out, scratch) -> writeBuffer(out, scratch, view.duplicate()));
    }

    /**
     * Adds a tensor whose little-endian bytes are fetched only while {@link #write} reaches it (and
     * again on each later write), so the caller never holds all tensors at once. The supplied
     * buffer's remaining bytes must be exactly shape × dtype size.
     */
    public SafetensorsWriter add(String name, TensorDType dtype, long[] shape, Supplier<ByteBuffer> bytes) {
        Objects.requireNonNull(bytes, "bytes");
        long expected = TensorInfo.byteLength(dtype, shape);
        return put(name, dtype, shape, (out, scratch) -> {
            ByteBuffer buf = bytes.get();
            if (buf == null || buf.remaining() != expected) {
                throw new IllegalStateException("tensor '" + name + "': supplier gave "
                        + (buf == null ? "null" : buf.remaining() + " bytes") + ", expected " + expected);
            }
            writeBuffer(out, scratch, buf.duplicate());
        });
    }

    /**
     * Adds a tensor whose bytes the producer streams during {@link #write}: for tensors too large
     * for one ByteBuffer, or generated on the fly. Writing more or fewer bytes than shape × dtype
     * size fails the write.
     */
    public SafetensorsWriter addStreamed(String name, TensorDType dtype, long[] shape, BytesProducer producer) {
        Objects.requireNonNull(producer, "producer");
        long expected = TensorInfo.byteLength(dtype, shape);
        return put(name, dtype, shape, (out, scratch) -> {
            ExactLengthStream counted = new ExactLengthStream(out, name, expected);
            producer.writeTo(counted);
            counted.checkComplete();
        });
    }

    /** Size in bytes of the file {@link #write} will produce. */
    public long fileSize() {
        return 8L + header(layout()).length + entries.values().stream().mapToLong(Entry::byteLength).sum();
    }

    /** Writes the file to {@code out}, flushing but not closing it. */
    public void write(OutputStream out) throws IOException {
        List<Entry> order = layout();
        byte[] header = header(order);
        ByteBuffer scratch = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        scratch.putLong(0, header.length);
        out.write(scratch.array(), 0, 8);
        out.write(header);
        for (Entry e : order) {
            e.data.writeTo(out, scratch);
        }
        out.flush();
    }

    /**
     * Writes the file to {@code path} through a temporary sibling that is then renamed over it, so
     * a crash never leaves a half-written file under the final name.
     */
    public void write(Path path) throws IOException {
        Path absolute = path.toAbsolutePath();
        // A named temporary created with the process's umask (0644 usually): Files.createTempFile would make the
        // final file 0600, unreadable to the other users of an exported model.
        Path tmp = absolute.resolveSibling(absolute.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE), 1 << 16)) {
                write(out);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---- layout ----

    /** How an entry writes its bytes, given a reusable little-endian heap chunk. */
    @FunctionalInterface
    private interface DataWriter {
        void writeTo(OutputStream out, ByteBuffer scratch) throws IOException;
    }

    private record Entry(String name, TensorDType dtype, long[] shape, long byteLength, DataWriter data) {
    }

    private SafetensorsWriter put(String name, TensorDType dtype, long[] shape, DataWriter data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        if (SafetensorsFile.METADATA_KEY.equals(name)) {
            throw new IllegalArgumentException(name + " is reserved for metadata");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        long[] dims = shape.clone();
        entries.put(name, new Entry(name, dtype, dims, TensorInfo.byteLength(dtype, dims), data));
        return this;
    }

    /** Data order: element size descending keeps every tensor aligned to its element size. */
    private List<Entry> layout() {
        List<Entry> order = new ArrayList<>(entries.values());
        order.sort(Comparator.comparingInt((Entry e) -> -e.dtype.byteSize()).thenComparing(Entry::name));
        return order;
    }

    private byte[] header(List<Entry> order) {
        Map<String, long[]> offsets = new TreeMap<>();
        long cursor = 0;
        for (Entry e : order) {
            offsets.put(e.name, new long[] {cursor, cursor + e.byteLength});
            cursor += e.byteLength;
        }
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        for (Entry e : entries.values()) { // TreeMap: sorted by name
            ObjectNode t = root.putObject(e.name);
            t.put("dtype", e.dtype.name());
            ArrayNode dims = t.putArray("shape");
            for (long d : e.shape) {
                dims.add(d);
            }
            long[] span = offsets.get(e.name);
            t.putArray("data_offsets").add(span[0]).add(span[1]);
        }
        byte[] json;
        try {
            json = SafetensorsFile.JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise header", e);
        }
        // Pad with spaces so the data section starts 8-byte aligned (8 + N ≡ 0 mod 8).
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    // ---- data encoding ----

    private static void checkLength(String name, long[] shape, int length) {
        long numel = TensorInfo.numel(shape);
        if (numel != length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + length + " values given but shape "
                    + Arrays.toString(shape) + " holds " + numel);
        }
    }

    private static void writeFloats(OutputStream out, ByteBuffer scratch, TensorDType dtype, float[] data)
            throws IOException {
        int size = dtype.byteSize();
        for (int i = 0; i < data.length; ) {
            int n = Math.min(scratch.capacity() / size, data.length - i);
            scratch.clear();
            switch (dtype) {
                case F32 -> scratch.asFloatBuffer().put(data, i, n);
                case F16 -> {
                    for (int k = i; k < i + n; k++) {
                        scratch.putShort(TensorDType.floatToF16(data[k]));
                    }
                }
                case BF16 -> {
                    for (int k = i; k < i + n; k++) {
                        scratch.putShort(TensorDType.floatToBf16(data[k]));
                    }
                }
                default -> throw new AssertionError(dtype);
            }
            out.write(scratch.array(), 0, n * size);
            i += n;
        }
    }

    /**
     * Writes the buffer's remaining bytes in chunks: a file channel copies each heap write into a
     * temporary direct buffer of the same size (and caches it), so one huge write would double
     * memory. Direct buffers go through the scratch chunk.
     */
    private static void writeBuffer(OutputStream out, ByteBuffer scratch, ByteBuffer src) throws IOException {
        if (src.hasArray()) {
            writeChunked(out, src.array(), src.arrayOffset() + src.position(), src.remaining());
            return;
        }
        byte[] chunk = scratch.array();
        while (src.hasRemaining()) {
            int n = Math.min(chunk.length, src.remaining());
            src.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    private static void writeChunked(OutputStream out, byte[] b, int off, int len) throws IOException {
        for (int done = 0; done < len; ) {
            int n = Math.min(CHUNK_BYTES, len - done);
            out.write(b, off + done, n);
            done += n;
        }
    }

    /** Guards a producer: refuses bytes past the declared length, and must not close the file. */
    private static final class ExactLengthStream extends FilterOutputStream {
        private final String name;
        private final long expected;
        private long written;

        ExactLengthStream(OutputStream out, String name, long expected) {
            super(out);
            this.name = name;
            this.expected = expected;
        }

        @Override
        public void write(int b) throws IOException {
            count(1);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count(len);
            writeChunked(out, b, off, len);
        }

        @Override
        public void close() {
            // The producer does not own the file stream; closing it would end the whole file.
        }

        private void count(int n) {
            if (written + n > expected) {
                throw new IllegalStateException("tensor '" + name + "': producer wrote more than the "
                        + expected + " bytes its shape and dtype need");
            }
            written += n;
        }

        void checkComplete() {
            if (written != expected) {
                throw new IllegalStateException("tensor '" + name + "': producer wrote " + written
                        + " bytes, expected " + expected);
            }
        }
    }
}
