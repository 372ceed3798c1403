package dev.ditspark.core.weights;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A safetensors file opened for reading: the header is parsed and validated up front, tensor bytes
 * are read on demand with positional reads, so files of any size (past 2 GiB included) open
 * without loading them.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor
 * name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__"} string map, then the data section, to which the offsets are relative.
 * Validation is strict: the tensors must tile the data section exactly (no overlap, no hole, no
 * trailing bytes) and each span must equal shape × dtype size, so a truncated or corrupt file fails
 * at {@link #open} rather than mid-training.
 *
 * <p>Reads are thread-safe when the source's are (the {@link RandomAccessSource#of file source}'s
 * are). Every format problem surfaces as {@link WeightFormatException} naming the file and key.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** The header key of the optional string→string metadata map. */
    public static final String METADATA_KEY = "__metadata__";

    /** Larger headers are refused before allocating them: a garbage length must not OOM us. */
    static final int MAX_HEADER_BYTES = 100 << 20;

    /** Conversions read through a buffer of this size, so converting never doubles memory. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** Longest Java array the JVM reliably allocates. */
    private static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // a repeated key is ambiguous
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Set<TensorDType> FLOAT32_SOURCES =
            EnumSet.of(TensorDType.F32, TensorDType.F16, TensorDType.BF16, TensorDType.F64);
    private static final Set<TensorDType> FLOAT64_SOURCES =
            EnumSet.of(TensorDType.F64, TensorDType.F32, TensorDType.F16, TensorDType.BF16);
    private static final Set<TensorDType> INT64_SOURCES = EnumSet.of(TensorDType.I64, TensorDType.I32,
            TensorDType.I16, TensorDType.I8, TensorDType.U8, TensorDType.U16, TensorDType.U32, TensorDType.BOOL);

    private final RandomAccessSource source;
    private final String displayName;
    private final Map<String, String> metadata;
    private final NavigableMap<String, TensorInfo> tensors;
    private volatile boolean closed;

    private SafetensorsFile(RandomAccessSource source, String displayName,
                            Map<String, String> metadata, NavigableMap<String, TensorInfo> tensors) {
        this.source = source;
        this.displayName = displayName;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Opens and validates a local file; its path is the display name in error messages. */
    public static SafetensorsFile open(Path path) throws IOException {
        return open(RandomAccessSource.open(path), path.toString());
    }

    /**
     * Opens and validates a safetensors byte sequence. Takes ownership of {@code source}: it is
     * closed by {@link #close()}, or right away if the header is invalid.
     *
     * @param displayName how error messages name the file (a path or URI)
     * @throws WeightFormatException if the header is malformed or the data section is truncated
     */
    public static SafetensorsFile open(RandomAccessSource source, String displayName) throws IOException {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(displayName, "displayName");
        try {
            return new HeaderParser(source, displayName).parse();
        } catch (IOException | RuntimeException e) {
            try {
                source.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** How error messages name this file. */
    public String displayName() {
        return displayName;
    }

    /** The {@code __metadata__} map in file order; empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names, sorted lexicographically (not in header or data order). */
    public Set<String> names() {
        return tensors.navigableKeySet();
    }

    /** All tensors, keyed and sorted by name. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor called {@code name}.
     *
     * @throws WeightFormatException if there is none; the message lists nearby keys
     */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new WeightFormatException(displayName, name, "no such tensor; nearby keys "
                    + nearbyKeys(name) + " (of " + tensors.size() + " tensors)");
        }
        return t;
    }

    /** Reads a F32, F16, BF16 or F64 tensor as floats (F64 is rounded). */
    public float[] readFloat32(String name) throws IOException {
        TensorInfo t = requireDType(name, FLOAT32_SOURCES, "readFloat32");
        float[] out = new float[arrayLength(t)];
        switch (t.dtype()) {
            case F32 -> readChunks(t, (b, i) -> b.asFloatBuffer().get(out, i, b.remaining() / 4));
            case F16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = TensorDType.f16ToFloat(b.getShort());
                }
            });
            case BF16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = TensorDType.bf16ToFloat(b.getShort());
                }
            });
            case F64 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = (float) b.getDouble();
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /** Reads a F64, F32, F16 or BF16 tensor as doubles (all conversions are exact). */
    public double[] readFloat64(String name) throws IOException {
        TensorInfo t = requireDType(name, FLOAT64_SOURCES, "readFloat64");
        double[] out = new double[arrayLength(t)];
        switch (t.dtype()) {
            case F64 -> readChunks(t, (b, i) -> b.asDoubleBuffer().get(out, i, b.remaining() / 8));
            case F32 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = b.getFloat();
                }
            });
            case F16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = TensorDType.f16ToFloat(b.getShort());
                }
            });
            case BF16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = TensorDType.bf16ToFloat(b.getShort());
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * Reads an integer or boolean tensor as longs: I64, I32, I16, I8, U8, U16, U32 (unsigned types
     * zero-extended) and BOOL (0 or 1). U64 is refused because it does not fit a long.
     */
    public long[] readInt64(String name) throws IOException {
        TensorInfo t = requireDType(name, INT64_SOURCES, "readInt64");
        long[] out = new long[arrayLength(t)];
        switch (t.dtype()) {
            case I64 -> readChunks(t, (b, i) -> b.asLongBuffer().get(out, i, b.remaining() / 8));
            case I32 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = b.getInt();
                }
            });
            case U32 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = Integer.toUnsignedLong(b.getInt());
                }
            });
            case I16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = b.getShort();
                }
            });
            case U16 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = Short.toUnsignedLong(b.getShort());
                }
            });
            case I8 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = b.get();
                }
            });
            case U8 -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = Byte.toUnsignedLong(b.get());
                }
            });
            case BOOL -> readChunks(t, (b, i) -> {
                for (int k = i; b.hasRemaining(); k++) {
                    out[k] = b.get() != 0 ? 1 : 0;
                }
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * The tensor's exact bytes in a new direct, little-endian buffer (position 0, limit = byte
     * length), ready for zero-copy tensor creation.
     *
     * @throws WeightFormatException if the tensor is larger than a ByteBuffer can hold
     *                               (Integer.MAX_VALUE bytes); read such tensors piecewise with
     *                               {@link #readRaw(String, long, ByteBuffer)}
     */
    public ByteBuffer readRaw(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE) {
            throw new WeightFormatException(displayName, name, t.byteLength()
                    + " bytes is more than one ByteBuffer holds (" + Integer.MAX_VALUE
                    + "); read it in pieces with readRaw(name, offset, dst)");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
        ensureOpen();
        source.readFully(t.offset(), out);
        return out.flip();
    }

    /**
     * Reads {@code dst.remaining()} bytes of the tensor, starting {@code byteOffset} bytes into it,
     * into {@code dst} (advancing its position): for streaming tensors of any size.
     */
    public void readRaw(String name, long byteOffset, ByteBuffer dst) throws IOException {
        TensorInfo t = info(name);
        if (byteOffset < 0 || byteOffset > t.byteLength() - dst.remaining()) {
            throw new IndexOutOfBoundsException(displayName + ": tensor '" + name + "': bytes ["
                    + byteOffset + ", " + (byteOffset + dst.remaining()) + ") outside [0, " + t.byteLength() + ")");
        }
        ensureOpen();
        source.readFully(t.offset() + byteOffset, dst);
    }

    /** Closes the underlying source; idempotent. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            source.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + displayName + ", " + tensors.size() + " tensors]";
    }

    // ---- reading helpers ----

    /** Receives one chunk of whole elements; {@code firstElement} is the index of its first. */
    @FunctionalInterface
    private interface ChunkConsumer {
        void accept(ByteBuffer chunk, int firstElement);
    }

    /**
     * Streams the tensor through one small heap buffer. Heap rather than direct: it is reused by
     * the JDK's own I/O buffer cache, and a Hadoop-backed source reads into byte[] anyway.
     */
    private void readChunks(TensorInfo t, ChunkConsumer consumer) throws IOException {
        ensureOpen();
        int elementSize = t.dtype().byteSize();
        int capacity = (int) Math.min(CHUNK_BYTES, t.byteLength()); // CHUNK_BYTES is a multiple of 8
        ByteBuffer buf = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        int element = 0;
        while (done < t.byteLength()) {
            int n = (int) Math.min(capacity, t.byteLength() - done);
            buf.clear().limit(n);
            source.readFully(t.offset() + done, buf);
            buf.flip();
            consumer.accept(buf, element);
            done += n;
            element += n / elementSize;
        }
    }

    private TensorInfo requireDType(String name, Set<TensorDType> allowed, String method) {
        TensorInfo t = info(name);
        if (!allowed.contains(t.dtype())) {
            throw new WeightFormatException(displayName, name, "dtype " + t.dtype() + " cannot be read by "
                    + method + ", which accepts " + allowed + "; use readRaw for the bytes");
        }
        return t;
    }

    private int arrayLength(TensorInfo t) {
        if (t.numel() > MAX_ARRAY_LENGTH) {
            throw new WeightFormatException(displayName, t.name(), t.numel()
                    + " elements do not fit one Java array; read it in pieces with readRaw(name, offset, dst)");
        }
        return (int) t.numel();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(displayName + " is closed");
        }
    }

    /** Keys sorting next to {@code name}: they share its prefix, so a typo or a renamed layer shows. */
    private List<String> nearbyKeys(String name) {
        List<String> keys = new ArrayList<>();
        for (String k : tensors.headMap(name, false).descendingKeySet()) {
            if (keys.size() == 2) {
                break;
            }
            keys.add(0, k);
        }
        for (String k : tensors.tailMap(name, false).keySet()) {
            if (keys.size() == 5) {
                break;
            }
            keys.add(k);
        }
        return keys;
    }

    // ---- header parsing and validation ----

    /** One-shot parser; its fields are the state of a single open(). */
    private static final class HeaderParser {
        private final RandomAccessSource source;
        private final String file;

        HeaderParser(RandomAccessSource source, String file) {
            this.source = source;
            this.file = file;
        }

        SafetensorsFile parse() throws IOException {
            long size = source.size();
            if (size < 8) {
                throw new WeightFormatException(file, "file is truncated or not a safetensors file: only "
                        + size + " bytes, fewer than the 8-byte header length");
            }
            ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            source.readFully(0, lengthField);
            long headerLength = lengthField.getLong(0);
            // Compare unsigned: a u64 past 2^63 reads as negative.
            if (Long.compareUnsigned(headerLength, size - 8) > 0) {
                throw new WeightFormatException(file, "file is truncated or not a safetensors file: header length "
                        + Long.toUnsignedString(headerLength) + " exceeds the " + (size - 8)
                        + " bytes that follow the length field");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new WeightFormatException(file, "header length " + headerLength + " exceeds the "
                        + MAX_HEADER_BYTES + "-byte limit; not a safetensors file?");
            }
            byte[] header = new byte[(int) headerLength];
            source.readFully(8, ByteBuffer.wrap(header));
            JsonNode root = parseJson(header);

            long dataStart = 8 + headerLength;
            Map<String, String> metadata = Map.of();
            NavigableMap<String, TensorInfo> tensors = new TreeMap<>();
            List<Span> spans = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (METADATA_KEY.equals(e.getKey())) {
                    metadata = parseMetadata(e.getValue());
                } else {
                    Span span = parseTensor(e.getKey(), e.getValue());
                    spans.add(span);
                    tensors.put(e.getKey(), new TensorInfo(e.getKey(), span.dtype, span.shape,
                            dataStart + span.begin, span.end - span.begin));
                }
            }
            checkTiling(spans, size - dataStart, dataStart);
            return new SafetensorsFile(source, file, metadata, Collections.unmodifiableNavigableMap(tensors));
        }

        private JsonNode parseJson(byte[] header) {
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (JsonProcessingException e) {
                JsonLocation at = e.getLocation();
                throw new WeightFormatException(file, null, "header is not valid UTF-8 JSON: " + e.getOriginalMessage()
                        + (at == null ? "" : " (at header byte " + at.getByteOffset() + ")"), e);
            } catch (IOException e) {
                throw new WeightFormatException(file, null, "header is unreadable: " + e.getMessage(), e);
            }
            if (root == null || root.isMissingNode()) {
                throw new WeightFormatException(file, "header is empty; expected a JSON object");
            }
            if (!root.isObject()) {
                throw new WeightFormatException(file, "header is a JSON " + root.getNodeType()
                        + ", expected an object mapping tensor names to {dtype, shape, data_offsets}");
            }
            return root;
        }

        private Map<String, String> parseMetadata(JsonNode node) {
            if (!node.isObject()) {
                throw new WeightFormatException(file, METADATA_KEY, "must be an object of strings, found "
                        + node.getNodeType());
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (!e.getValue().isTextual()) {
                    throw new WeightFormatException(file, METADATA_KEY, "value of '" + e.getKey()
                            + "' must be a string, found " + e.getValue().getNodeType() + " " + e.getValue());
                }
                out.put(e.getKey(), e.getValue().textValue());
            }
            return Collections.unmodifiableMap(out);
        }

        private Span parseTensor(String key, JsonNode node) {
            if (!node.isObject()) {
                throw new WeightFormatException(file, key, "entry must be an object {dtype, shape, data_offsets}, found "
                        + node.getNodeType());
            }
            JsonNode dtypeNode = required(key, node, "dtype");
            if (!dtypeNode.isTextual()) {
                throw new WeightFormatException(file, key, "dtype must be a string, found " + dtypeNode);
            }
            TensorDType dtype = TensorDType.fromName(dtypeNode.textValue()).orElseThrow(() ->
                    new WeightFormatException(file, key, "unknown dtype '" + dtypeNode.textValue()
                            + "'; known: " + Arrays.toString(TensorDType.values())));
            long[] shape = nonNegativeLongs(key, required(key, node, "shape"), "shape", -1);
            long[] offsets = nonNegativeLongs(key, required(key, node, "data_offsets"), "data_offsets", 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end) {
                throw new WeightFormatException(file, key, "data_offsets [" + begin + ", " + end + "] end before they begin");
            }
            long expected;
            try {
                expected = TensorInfo.byteLength(dtype, shape);
            } catch (IllegalArgumentException e) {
                throw new WeightFormatException(file, key, e.getMessage(), e);
            }
            if (end - begin != expected) {
                throw new WeightFormatException(file, key, "data_offsets [" + begin + ", " + end + "] span "
                        + (end - begin) + " bytes but " + dtype + Arrays.toString(shape) + " needs " + expected);
            }
            return new Span(key, dtype, shape, begin, end);
        }

        private JsonNode required(String key, JsonNode node, String field) {
            JsonNode v = node.get(field);
            if (v == null) {
                throw new WeightFormatException(file, key, "missing '" + field + "'");
            }
            return v;
        }

        /** A JSON array of integers in [0, Long.MAX_VALUE]; {@code length} -1 means any length. */
        private long[] nonNegativeLongs(String key, JsonNode node, String field, int length) {
            if (!node.isArray() || (length >= 0 && node.size() != length)) {
                throw new WeightFormatException(file, key, field + " must be an array of "
                        + (length >= 0 ? length + " " : "") + "non-negative integers, found " + node);
            }
            long[] out = new long[node.size()];
            for (int i = 0; i < out.length; i++) {
                JsonNode v = node.get(i);
                if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                    throw new WeightFormatException(file, key, field + " must hold non-negative integers"
                            + " (at most " + Long.MAX_VALUE + "), found " + node);
                }
                out[i] = v.longValue();
            }
            return out;
        }

        /**
         * The tensors must tile the data section exactly. Truncation is checked first because it
         * is the likely cause when the offsets run past the end of a well-formed header.
         */
        private void checkTiling(List<Span> spans, long dataLength, long dataStart) {
            Span last = spans.stream().max(Comparator.comparingLong(s -> s.end)).orElse(null);
            long declared = last == null ? 0 : last.end;
            if (declared > dataLength) {
                throw new WeightFormatException(file, last.key, "file is truncated: data_offsets end at "
                        + declared + " but the data section has only " + dataLength + " bytes (file is "
                        + (dataStart + dataLength) + " bytes, the header implies " + (dataStart + declared) + ")");
            }
            spans.sort(Comparator.<Span>comparingLong(s -> s.begin).thenComparingLong(s -> s.end));
            long cursor = 0;
            Span previous = null;
            for (Span s : spans) {
                if (s.begin < cursor) {
                    throw new WeightFormatException(file, s.key, "data_offsets [" + s.begin + ", " + s.end
                            + "] overlap tensor '" + previous.key + "' [" + previous.begin + ", " + previous.end + "]");
                }
                if (s.begin > cursor) {
                    throw new WeightFormatException(file, s.key, "data_offsets [" + s.begin + ", " + s.end
                            + "] leave a hole of " + (s.begin - cursor) + " bytes after "
                            + (previous == null ? "the start of the data section" : "tensor '" + previous.key + "'")
                            + "; the data section must be fully covered");
                }
                if (s.end > cursor) {
                    cursor = s.end;
                    previous = s;
                }
            }
            if (cursor < dataLength) {
                throw new WeightFormatException(file, (dataLength - cursor) + " trailing bytes after the last tensor"
                        + " are not covered by any tensor (data section " + dataLength + " bytes, tensors end at "
                        + cursor + ")");
            }
        }
    }

    /** A tensor's header entry, before it becomes a {@link TensorInfo}. */
    private record Span(String key, TensorDType dtype, long[] shape, long begin, long end) {
    }
}
