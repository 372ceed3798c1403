package dev.ditspark.core.data;

/**
 * One rank's share of a latent dataset, held in memory and indexable by position {@code 0..size()-1}
 * (which a deterministic shuffle needs: see {@link EpochOrder}).
 *
 * <p>The arrays stay in the file's dtype and byte order, one chunked byte store per field (a rank's share
 * of ImageNet latents is gigabytes, more than one Java array holds), and are decoded to floats on access.
 * Safe for concurrent readers once built.
 */
public final class LatentSubset implements LatentDataset.RowSink {

    /** The four stored arrays of a row. */
    public enum Field {
        MEAN, STD, MEAN_FLIP, STD_FLIP
    }

    /**
     * One row, decoded: the label and the four C×H×W arrays. A stream that knows which orientation the trainer
     * will take ({@link LatentStream#next(java.util.function.LongPredicate)}) decodes only that pair and leaves the
     * other null.
     */
    public record Sample(int label, float[] mean, float[] std, float[] meanFlip, float[] stdFlip) {
        /**
         * The posterior of the image ({@code flip} false) or of its mirror.
         *
         * @throws IllegalStateException if that pair was not decoded
         */
        public float[] mean(boolean flip) {
            return decoded(flip ? meanFlip : mean, flip);
        }

        /** @throws IllegalStateException if that pair was not decoded */
        public float[] std(boolean flip) {
            return decoded(flip ? stdFlip : std, flip);
        }

        private static float[] decoded(float[] a, boolean flip) {
            if (a == null) {
                throw new IllegalStateException("the " + (flip ? "mirrored" : "unmirrored") + " arrays of this sample "
                        + "were not decoded: the stream was told the other orientation");
            }
            return a;
        }
    }

    private final DatasetManifest manifest;
    private final int rank;
    private final int worldSize;
    private final long globalStart;
    private final int[] labels;
    private final ByteStore[] arrays;

    LatentSubset(DatasetManifest manifest, int rank, int worldSize, long globalStart, int size) {
        this.manifest = manifest;
        this.rank = rank;
        this.worldSize = worldSize;
        this.globalStart = globalStart;
        this.labels = new int[size];
        this.arrays = new ByteStore[Field.values().length];
        for (int f = 0; f < arrays.length; f++) {
            arrays[f] = new ByteStore(size, manifest.bytesPerArray());
        }
    }

    public DatasetManifest manifest() {
        return manifest;
    }

    /** Samples in this share (the same on every rank). */
    public int size() {
        return labels.length;
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    /** The row of the whole dataset (in manifest shard order) that position {@code index} holds. */
    public long globalIndex(int index) {
        check(index);
        return globalStart + index;
    }

    public int label(int index) {
        check(index);
        return labels[index];
    }

    /** Row {@code index}, decoded into fresh arrays. */
    public Sample get(int index) {
        check(index);
        int n = manifest.elementsPerArray();
        float[][] a = new float[4][n];
        for (int f = 0; f < 4; f++) {
            arrays[f].decode(index, manifest.dtype(), a[f], 0);
        }
        return new Sample(labels[index], a[0], a[1], a[2], a[3]);
    }

    /** Decodes one array of row {@code index} into {@code dst[offset .. offset + C·H·W)}, e.g. a batch buffer. */
    public void copy(int index, Field field, float[] dst, int offset) {
        check(index);
        arrays[field.ordinal()].decode(index, manifest.dtype(), dst, offset);
    }

    /** Bytes held in memory for the arrays. */
    public long arrayBytes() {
        return 4L * labels.length * manifest.bytesPerArray();
    }

    private void check(int index) {
        if (index < 0 || index >= labels.length) {
            throw new IndexOutOfBoundsException("index " + index + " outside [0, " + labels.length + ")");
        }
    }

    // ---- filled by LatentDataset, one shard per thread, each into its own positions ----

    @Override
    public int numClasses() {
        return manifest.numClasses();
    }

    @Override
    public void setLabel(int index, int label) {
        labels[index] = label;
    }

    @Override
    public ByteStore store(Field field) {
        return arrays[field.ordinal()];
    }

    /** Fixed-size records in byte[] chunks of at most 1 GiB, so the total may exceed 2 GiB. */
    static final class ByteStore {
        private final int recordBytes;
        private final int recordsPerChunk;
        private final byte[][] chunks;

        ByteStore(int records, int recordBytes) {
            this(records, recordBytes, 1 << 30);
        }

        ByteStore(int records, int recordBytes, int chunkBytes) {
            this.recordBytes = recordBytes;
            this.recordsPerChunk = Math.max(1, chunkBytes / recordBytes);
            int nChunks = (int) ((records + (long) recordsPerChunk - 1) / recordsPerChunk);
            this.chunks = new byte[nChunks][];
            for (int c = 0; c < nChunks; c++) {
                int inChunk = Math.min(recordsPerChunk, records - c * recordsPerChunk);
                chunks[c] = new byte[inChunk * recordBytes];
            }
        }

        int recordBytes() {
            return recordBytes;
        }

        /** Copies one record's bytes from {@code src} (position advanced by {@code recordBytes}). */
        void put(int index, java.nio.ByteBuffer src) {
            src.get(chunks[index / recordsPerChunk], (index % recordsPerChunk) * recordBytes, recordBytes);
        }

        void decode(int index, LatentDType dtype, float[] dst, int offset) {
            dtype.decode(chunks[index / recordsPerChunk], (index % recordsPerChunk) * recordBytes, dst, offset,
                    recordBytes / dtype.byteSize());
        }
    }
}
