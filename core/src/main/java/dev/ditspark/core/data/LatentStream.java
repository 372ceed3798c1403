package dev.ditspark.core.data;

import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.data.LatentDataset.RowGroup;
import dev.ditspark.core.data.LatentDataset.RowSink;
import dev.ditspark.core.data.LatentSubset.ByteStore;
import dev.ditspark.core.data.LatentSubset.Field;
import dev.ditspark.core.data.LatentSubset.Sample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One worker's data as a stream of shuffled windows read on background threads, never holding more than a fixed
 * budget of heap (issue 12): the dataset need not fit in memory, and the first step waits for one window, not for
 * the whole share.
 *
 * <h2>The order (a function of the seed, the epoch, the stream count S and the window size M only)</h2>
 * <ol>
 *   <li>Epoch e permutes the dataset's Parquet row groups (Fisher-Yates, seeded by seed and e) and lays their rows
 *       end to end: a sequence of all N rows.</li>
 *   <li>The sequence is dealt into S equal contiguous streams of n = N / S rows (the last N mod S rows sit out
 *       this epoch; other rows next epoch). Stream s reads about 1/S of the row groups, not all of them.</li>
 *   <li>Each stream is cut into windows of M rows; each window is shuffled (Fisher-Yates, seeded by seed, e, s and
 *       the window index) and its rows are taken in that order.</li>
 *   <li>Global batch k is stream 0's samples {@code [k·b, (k+1)·b)}, then stream 1's, …, with b = global batch / S;
 *       a stream's epoch ends when fewer than b of its n rows remain ({@code drop_last}).</li>
 * </ol>
 * Worker r of W runs the S/W streams {@code r·S/W ..} and so holds rows {@code [r·B/W, (r+1)·B/W)} of every global
 * batch. Hence W workers with per-worker budget m draw exactly the global batches of one worker with
 * {@code data.streams = S} and budget W·m (each stream gets the same budget, so the same M): the data-parallel
 * equivalence. A {@link DataCursor} position counts samples of each stream; a checkpoint stores position·S.
 *
 * <h2>Memory</h2>
 * Each stream owns two window buffers (the one being consumed and the one being read ahead) and reads with
 * {@value #READ_THREADS} threads, each holding at most one row group; M is the largest window for which
 * {@code 2·M·rowBytes + }{@value #READ_THREADS}{@code ·largestRowGroup} fits in the stream's share of the budget
 * ({@code data.memory_mb / (S/W)}). {@link #peakHeldBytes()} measures what was held. The floats {@link #next}
 * decodes (on its caller and {@link #DECODE_THREADS} more threads) are the trainer's batch, not the reader's.
 */
public final class LatentStream implements AutoCloseable {

    /**
     * Row groups read at once per stream. Fixed rather than the core count: the window size depends on it, and
     * the order on the window size, which must be the same on every worker and machine.
     */
    public static final int READ_THREADS = 4;

    /**
     * Threads besides the caller of {@link #next} that decode a batch's rows to float, at most {@value #READ_THREADS}
     * in all and no more than the cores: one thread decoding 4×64×64 float16 rows (512 px) reaches about the rate one
     * H100 consumes, so the 20× needs several (docs/benchmarks.md, "Streaming the shards"). Which thread
     * decodes a row changes no value and no order.
     */
    static final int DECODE_THREADS = Math.max(0, Math.min(READ_THREADS, Runtime.getRuntime().availableProcessors()) - 1);

    /** Rows per decode task: below this a hand-off costs more than the decoding it shares out. */
    private static final int DECODE_CHUNK = 16;

    /** Budgets of the streams started and not yet closed in this JVM (local Spark runs all workers in one). */
    private static final AtomicLong RESERVED = new AtomicLong();
    private static final java.util.concurrent.atomic.AtomicInteger LIVE = new java.util.concurrent.atomic.AtomicInteger();

    /** The share of a heap the readers may take before a warning: the rest is the trainer's, Spark's, Parquet's. */
    static final double HEAP_SHARE = 0.75;

    /** Heap per row besides the four arrays: label (int), global index (long), shuffled position (int). */
    static final int ROW_OVERHEAD = 16;

    /** One worker batch: the cursor it was taken at, the cursor after it, its samples and their dataset rows. */
    public record Batch(DataCursor cursor, DataCursor next, Sample[] samples, long[] globalIndices) {
    }

    /** A run of rows of one row group: {@code rows [skip, skip + take)} go to window position {@code position}. */
    record Piece(RowGroup group, int skip, int take, int position) {
    }

    private final LatentDataset dataset;
    private final DatasetManifest manifest;
    private final List<RowGroup> groups;
    private final long seed;
    private final int streams;
    private final int firstStream;
    private final int localStreams;
    private final int streamBatch;
    private final int shareSize;
    private final int windowRows;
    /** One stream whose whole share fits the budget once: read once, re-shuffled each epoch (see {@link #resident()}). */
    private final boolean resident;
    private final long rowBytes;
    private final long budget;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong waitNanos = new AtomicLong();
    private final Stream[] running;
    /** Decodes batches with the caller of {@link #next}; null until started, or with no spare core. */
    private ExecutorService decoders;
    private DataCursor cursor;
    private String heapWarning;
    /** Whether this stream's budget counts in {@link #RESERVED} (from start to close). */
    private boolean reserved;
    private final Object layoutLock = new Object();
    /** The epoch whose row-group layout {@link #offsets} holds. */
    private int layoutEpoch = -1;
    private int[] layoutOrder;
    private long[] offsets;

    private LatentStream(LatentDataset dataset, List<RowGroup> groups, long seed, int streams, int rank,
                         int worldSize, int globalBatch, long memoryBytes) {
        this.dataset = dataset;
        this.manifest = dataset.manifest();
        this.groups = groups;
        this.seed = seed;
        this.streams = streams;
        this.localStreams = streams / worldSize;
        this.firstStream = rank * localStreams;
        this.streamBatch = globalBatch / streams;
        long total = 0;
        long largest = 0;
        for (RowGroup g : groups) {
            total += g.rows();
            largest = Math.max(largest, g.bytes());
        }
        this.shareSize = (int) Math.min(Integer.MAX_VALUE, total / streams);
        this.rowBytes = 4L * manifest.bytesPerArray() + ROW_OVERHEAD;
        this.budget = memoryBytes;
        long perStream = memoryBytes / localStreams;
        long windows = (perStream - READ_THREADS * largest) / (2 * rowBytes);
        if (windows < 1) {
            throw new ConfigException(String.format("data.memory_mb: %d MiB per worker leaves %d MiB for each of its %d "
                    + "streams, less than %d row groups in flight (the largest holds %.1f MiB) plus two rows of %.1f KiB; "
                    + "raise data.memory_mb or write the dataset with smaller row groups", memoryBytes >> 20,
                    perStream >> 20, localStreams, READ_THREADS, largest / 1048576.0, rowBytes / 1024.0));
        }
        // One stream (one worker) whose whole dataset fits once: a single window of all N rows, read once and only
        // re-shuffled each epoch. The order is what a window of N rows gives, so nothing else changes.
        // Its buffer, the row groups in flight while it loads and two epochs' orders (4 bytes a row each).
        this.resident = streams == 1 && (perStream - READ_THREADS * largest) / (rowBytes + 8) >= shareSize;
        this.windowRows = resident ? Math.max(1, shareSize)
                : (int) Math.max(1, Math.min(windows, Math.max(1, shareSize)));
        this.running = new Stream[localStreams];
    }

    /**
     * Plans the stream of worker {@code rank} of {@code worldSize}: reads every shard's footer (checked against the
     * manifest), nothing else; {@link #start} begins reading.
     *
     * @param seed the run's seed (train.seed): the same on every worker
     * @param streams S, a multiple of {@code worldSize} that divides {@code globalBatch}
     * @param memoryBytes this worker's budget (data.memory_mb in bytes)
     * @throws ConfigException when the budget cannot hold two rows and the row groups in flight (data.memory_mb)
     * @throws DatasetFormatException naming the shard whose footer is missing, corrupt or disagrees with the manifest
     */
    public static LatentStream open(LatentDataset dataset, long seed, int streams, int rank, int worldSize,
                                    int globalBatch, long memoryBytes) throws IOException {
        if (worldSize <= 0 || rank < 0 || rank >= worldSize || streams % worldSize != 0 || globalBatch % streams != 0) {
            throw new IllegalArgumentException("rank " + rank + " of " + worldSize + ", " + streams + " streams, global batch "
                    + globalBatch);
        }
        return new LatentStream(dataset, dataset.rowGroups(), seed, streams, rank, worldSize, globalBatch, memoryBytes);
    }

    public DatasetManifest manifest() {
        return manifest;
    }

    /** Rows of each stream per epoch (n = N / S). */
    public int shareSize() {
        return shareSize;
    }

    /** Samples each stream contributes to a global batch (b = global batch / S). */
    public int streamBatch() {
        return streamBatch;
    }

    public int streams() {
        return streams;
    }

    /** Streams this worker runs (S / W). */
    public int localStreams() {
        return localStreams;
    }

    /** Rows per shuffle window (M). */
    public int windowRows() {
        return windowRows;
    }

    /**
     * Whether the dataset is read once and kept (one stream, all of it within the budget with one buffer instead of
     * two, e.g. Fashion-MNIST): the whole-share reader's memory and I/O, with the streaming reader's order.
     */
    public boolean resident() {
        return resident;
    }

    /** Windows per stream per epoch. */
    public int windowsPerEpoch() {
        return (int) ((shareSize + (long) windowRows - 1) / windowRows);
    }

    /** Row groups in the dataset. */
    public int rowGroupCount() {
        return groups.size();
    }

    /** The budget in bytes (data.memory_mb). */
    public long budgetBytes() {
        return budget;
    }

    /** Bytes the reader holds now: window buffers allocated plus row groups being read. */
    public long heldBytes() {
        return held.get();
    }

    /** The most bytes the reader has held at once since it was opened. */
    public long peakHeldBytes() {
        return peak.get();
    }

    /** Seconds {@link #next} has waited for a window not yet read (the trainer starved of data). */
    public double waitSeconds() {
        return waitNanos.get() / 1e9;
    }

    /** Starts the background readers at {@code from} (settled: a cursor with no full batch left rolls over). */
    public synchronized LatentStream start(DataCursor from) {
        if (running[0] != null) {
            throw new IllegalStateException("already started");
        }
        cursor = from.settle(streamBatch, shareSize);
        reserved = true;
        heapWarning = heapWarning(budget, LIVE.incrementAndGet(), RESERVED.addAndGet(budget),
                Runtime.getRuntime().maxMemory(), "this JVM's -Xmx (DIT_JAVA_OPTS for dit train, spark.executor.memory on "
                        + "a cluster)");
        if (DECODE_THREADS > 0) {
            int[] n = {0};
            decoders = Executors.newFixedThreadPool(DECODE_THREADS, task -> {
                Thread t = new Thread(task, "dit-stream-decoder-" + (++n[0]));
                t.setDaemon(true);
                return t;
            });
        }
        for (int j = 0; j < localStreams; j++) {
            running[j] = new Stream(firstStream + j, cursor.epoch(), cursor.position() / windowRows);
            running[j].thread.start();
        }
        return this;
    }

    /** A one-line warning when the readers of this JVM may need more than its heap can give them; null when not. */
    public String heapWarning() {
        return heapWarning;
    }

    /**
     * The warning for {@code workers} readers of {@code budget} bytes each ({@code total} in all) against a heap of
     * {@code heap} bytes set by {@code heapSetting}, or null when they take at most {@value #HEAP_SHARE} of it.
     */
    public static String heapWarning(long budget, int workers, long total, long heap, String heapSetting) {
        if (total <= HEAP_SHARE * heap) {
            return null;
        }
        return String.format("data.memory_mb: the data readers of %d worker%s may hold %d MiB (%d MiB each) but the heap "
                        + "is %d MiB (%s), and training needs some of it too; lower data.memory_mb or raise the heap to at least "
                        + "%d MiB", workers, workers == 1 ? "" : "s", total >> 20, budget >> 20, heap >> 20, heapSetting,
                (long) Math.ceil(total / HEAP_SHARE) >> 20);
    }

    /** The cursor of the next batch. */
    public synchronized DataCursor cursor() {
        return cursor;
    }

    /**
     * The next worker batch: {@code streamBatch} samples of each local stream, in stream order; waits while the
     * window it needs is still being read.
     *
     * @throws DatasetFormatException naming the shard when one turns out corrupt while streaming
     * @throws UncheckedIOException when a shard cannot be read
     */
    public synchronized Batch next() {
        return next(null);
    }

    /**
     * {@link #next()}, decoding of each sample only the pair of arrays the trainer will use: the mirrored ones
     * (mean_flip, std_flip) where {@code mirrored} says so for the sample's global index, else mean and std. Half
     * the decoding (float16 to float) and half the floats of {@code next()}; the other pair of each sample is null.
     *
     * @param mirrored whether the sample with this global index is taken mirrored; null decodes both pairs
     */
    public synchronized Batch next(java.util.function.LongPredicate mirrored) {
        if (cursor == null) {
            throw new IllegalStateException("not started");
        }
        DataCursor at = cursor;
        Sample[] samples = new Sample[localStreams * streamBatch];
        long[] global = new long[samples.length];
        int[] rows = new int[samples.length];
        for (int j = 0; j < localStreams; j++) {
            // A stream's b samples may span two windows; each run within one window is decoded before the next
            // window is asked for, because asking releases the previous buffer to the reader, which overwrites it.
            for (int i = 0; i < streamBatch; ) {
                int position = at.position() + i;
                Window w = running[j].window(at.epoch(), position / windowRows);
                int run = Math.min(streamBatch - i, windowRows - position % windowRows);
                int slot = j * streamBatch + i;
                for (int k = 0; k < run; k++) {
                    rows[slot + k] = w.order[(position + k) % windowRows];
                    global[slot + k] = w.global[rows[slot + k]];
                }
                decode(w, rows, slot, run, samples, mirrored);
                i += run;
            }
        }
        cursor = at.advance(streamBatch, shareSize);
        return new Batch(at, cursor, samples, global);
    }

    /** {@code out[from + k] = w.sample(rows[from + k], ...)} for k in [0, count), shared with the decoder threads. */
    private void decode(Window w, int[] rows, int from, int count, Sample[] out, java.util.function.LongPredicate mirrored) {
        int tasks = decoders == null ? 1 : Math.min(DECODE_THREADS + 1, Math.max(1, count / DECODE_CHUNK));
        if (tasks == 1) {
            for (int k = from; k < from + count; k++) {
                out[k] = w.sample(rows[k], mirrored);
            }
            return;
        }
        List<Future<?>> others = new ArrayList<>(tasks - 1);
        for (int t = 1; t < tasks; t++) {
            int lo = from + (int) ((long) count * t / tasks);
            int hi = from + (int) ((long) count * (t + 1) / tasks);
            others.add(decoders.submit(() -> {
                for (int k = lo; k < hi; k++) {
                    out[k] = w.sample(rows[k], mirrored);
                }
            }));
        }
        for (int k = from, hi = from + count / tasks; k < hi; k++) { // the first share on this thread
            out[k] = w.sample(rows[k], mirrored);
        }
        try {
            for (Future<?> f : others) {
                f.get();
            }
        } catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException re ? re : new IllegalStateException(ex.getCause());
        } catch (InterruptedException ex) {
            others.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding a batch", ex);
        }
    }

    /**
     * The dataset rows stream {@code stream} visits in epoch {@code epoch}, in order (all n of them; the trainer
     * drops the last n mod b). A pure function of the plan: what {@link #next} yields, without reading a page.
     */
    public long[] order(int epoch, int stream) {
        long[] out = new long[shareSize];
        for (int w = 0; w < windowsPerEpoch(); w++) {
            List<Piece> pieces = pieces(epoch, stream, w);
            int size = windowSize(w);
            long[] rows = new long[size];
            for (Piece p : pieces) {
                for (int i = 0; i < p.take(); i++) {
                    rows[p.position() + i] = p.group().firstGlobalRow() + p.skip() + i;
                }
            }
            int[] order = shuffle(epoch, stream, w, size);
            for (int i = 0; i < size; i++) {
                out[w * windowRows + i] = rows[order[i]];
            }
        }
        return out;
    }

    private int windowSize(int window) {
        return (int) Math.min(windowRows, shareSize - (long) window * windowRows);
    }

    /** The row-group reads that fill window {@code window} of stream {@code stream} in epoch {@code epoch}. */
    List<Piece> pieces(int epoch, int stream, int window) {
        int[] layoutOrder;
        long[] offsets;
        synchronized (layoutLock) { // not the stream's monitor: next() holds that while it waits for a reader
            if (layoutEpoch != epoch) {
                this.layoutOrder = permutation(groups.size(), EpochOrder.mix(seed, epoch));
                this.offsets = new long[groups.size() + 1];
                for (int i = 0; i < groups.size(); i++) {
                    this.offsets[i + 1] = this.offsets[i] + groups.get(this.layoutOrder[i]).rows();
                }
                layoutEpoch = epoch;
            }
            layoutOrder = this.layoutOrder;
            offsets = this.offsets;
        }
        long from = (long) stream * shareSize + (long) window * windowRows;
        long to = from + windowSize(window);
        int i = Arrays.binarySearch(offsets, from);
        i = i >= 0 ? i : -i - 2;
        List<Piece> out = new ArrayList<>();
        for (long at = from; at < to; i++) {
            RowGroup g = groups.get(layoutOrder[i]);
            long skip = at - offsets[i];
            long end = Math.min(to, offsets[i + 1]);
            if (end > at) {
                out.add(new Piece(g, (int) skip, (int) (end - at), (int) (at - from)));
                at = end;
            }
        }
        return out;
    }

    private int[] shuffle(int epoch, int stream, int window, int size) {
        long s = EpochOrder.mix(EpochOrder.mix(seed, epoch) ^ (0x632BE59BD9B4E019L * (stream + 1L)), window);
        return permutation(size, s);
    }

    private static int[] permutation(int size, long seed) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private void hold(long bytes) {
        long now = held.addAndGet(bytes);
        peak.accumulateAndGet(now, Math::max);
    }

    @Override
    public synchronized void close() {
        if (decoders != null) {
            decoders.shutdown();
        }
        if (reserved) {
            RESERVED.addAndGet(-budget);
            LIVE.decrementAndGet();
            reserved = false;
        }
        for (Stream s : running) {
            if (s != null) {
                s.stop();
            }
        }
    }

    /** A window buffer: reused, so the reader's heap stays the two buffers it allocated per stream. */
    private final class Window implements RowSink {
        private final int[] labels;
        private final long[] global;
        private final ByteStore[] stores = new ByteStore[Field.values().length];
        private int[] order;
        private int epoch;
        private int index;

        Window(int capacity) {
            hold(capacity * rowBytes);
            labels = new int[capacity];
            global = new long[capacity];
            for (int f = 0; f < stores.length; f++) {
                stores[f] = new ByteStore(capacity, manifest.bytesPerArray());
            }
        }

        /** Another order over {@code rows}' buffers (resident mode): holds only its order. */
        Window(Window rows) {
            labels = rows.labels;
            global = rows.global;
            System.arraycopy(rows.stores, 0, stores, 0, stores.length);
        }

        /** Row {@code row} decoded: both pairs, or (with {@code mirrored}) only the one taken. */
        Sample sample(int row, java.util.function.LongPredicate mirrored) {
            int n = manifest.elementsPerArray();
            boolean both = mirrored == null;
            boolean flip = !both && mirrored.test(global[row]);
            float[][] a = new float[4][];
            for (int f = 0; f < 4; f++) {
                if (both || (f >= 2) == flip) { // fields 0, 1: mean, std; 2, 3: their mirrors
                    a[f] = new float[n];
                    stores[f].decode(row, manifest.dtype(), a[f], 0);
                }
            }
            return new Sample(labels[row], a[0], a[1], a[2], a[3]);
        }

        @Override
        public int numClasses() {
            return manifest.numClasses();
        }

        @Override
        public void setLabel(int position, int label) {
            labels[position] = label;
        }

        @Override
        public ByteStore store(Field field) {
            return stores[field.ordinal()];
        }
    }

    /** One stream: a reader thread filling windows in order, at most two alive, and the consumer's side. */
    private final class Stream implements Runnable {
        private final int id;
        private final BlockingQueue<Window> free = new ArrayBlockingQueue<>(2);
        private final BlockingQueue<Object> ready = new LinkedBlockingQueue<>();
        private final Thread thread;
        private final ExecutorService pool;
        private int allocated;
        private int epoch;
        private int window;
        private Window current;

        Stream(int id, int epoch, int window) {
            this.id = id;
            this.epoch = epoch;
            this.window = window;
            this.thread = new Thread(this, "dit-stream-" + id);
            thread.setDaemon(true);
            int[] n = {0};
            this.pool = Executors.newFixedThreadPool(READ_THREADS, task -> {
                Thread t = new Thread(task, "dit-stream-" + id + "-reader-" + (++n[0]));
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        public void run() {
            try {
                if (resident) {
                    runResident();
                    return;
                }
                while (!Thread.currentThread().isInterrupted()) {
                    Window w = free.poll();
                    if (w == null) {
                        if (allocated < 2) {
                            allocated++;
                            w = new Window(windowRows);
                        } else {
                            w = free.take();
                        }
                    }
                    fill(w, epoch, window);
                    ready.put(w);
                    if (++window == windowsPerEpoch()) {
                        window = 0;
                        epoch++;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                ready.add(t);
            }
        }

        /** Reads every row group once into one buffer, row k at position k, then hands out an order per epoch. */
        private void runResident() throws IOException, InterruptedException {
            Window rows = new Window(shareSize);
            List<Piece> all = new ArrayList<>();
            for (RowGroup g : groups) {
                all.add(new Piece(g, 0, g.rows(), (int) g.firstGlobalRow()));
            }
            read(rows, all);
            while (!Thread.currentThread().isInterrupted()) {
                Window view = free.poll();
                if (view == null) {
                    if (allocated < 2) {
                        allocated++;
                        view = new Window(rows);
                    } else {
                        view = free.take();
                    }
                }
                long[] order = order(epoch, 0);
                int[] positions = new int[order.length];
                for (int i = 0; i < order.length; i++) {
                    positions[i] = (int) order[i];
                }
                hold(4L * positions.length - (view.order != null ? 4L * view.order.length : 0));
                view.order = positions;
                view.epoch = epoch;
                view.index = 0;
                ready.put(view);
                epoch++;
            }
        }

        private void fill(Window w, int e, int index) throws IOException, InterruptedException {
            read(w, pieces(e, id, index));
            w.order = shuffle(e, id, index, windowSize(index));
            w.epoch = e;
            w.index = index;
        }

        private void read(Window w, List<Piece> pieces) throws IOException, InterruptedException {
            List<Future<?>> reads = new ArrayList<>();
            for (Piece p : pieces) {
                reads.add(pool.submit(() -> {
                    hold(p.group().bytes());
                    try {
                        dataset.readRows(p.group(), p.skip(), p.take(), w, p.position());
                    } finally {
                        hold(-p.group().bytes());
                    }
                    for (int i = 0; i < p.take(); i++) {
                        w.global[p.position() + i] = p.group().firstGlobalRow() + p.skip() + i;
                    }
                    return null;
                }));
            }
            try {
                for (Future<?> f : reads) {
                    f.get();
                }
            } catch (ExecutionException ex) {
                reads.forEach(f -> f.cancel(true));
                Throwable cause = ex.getCause();
                if (cause instanceof IOException io) {
                    throw io;
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException(cause);
            }
        }

        /** The window {@code index} of epoch {@code e}, releasing the one before it to the reader. */
        Window window(int e, int index) {
            if (current != null && current.epoch == e && current.index == index) {
                return current;
            }
            try {
                if (current != null) {
                    free.put(current);
                    current = null;
                }
                while (true) {
                    long t0 = System.nanoTime();
                    Object o = ready.take();
                    waitNanos.addAndGet(System.nanoTime() - t0);
                    if (o instanceof Throwable t) {
                        ready.add(t); // every later call fails the same way
                        if (t instanceof IOException io) {
                            throw new UncheckedIOException(io.getMessage(), io);
                        }
                        if (t instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new IllegalStateException(t.toString(), t);
                    }
                    Window w = (Window) o;
                    int cmp = w.epoch != e ? Integer.compare(w.epoch, e) : Integer.compare(w.index, index);
                    if (cmp == 0) {
                        current = w;
                        return w;
                    }
                    if (cmp > 0) {
                        throw new IllegalStateException("stream " + id + ": window (" + w.epoch + ", " + w.index
                                + ") arrived while (" + e + ", " + index + ") was wanted");
                    }
                    free.put(w); // a tail window the epoch's last full batch did not reach
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for data", ex);
            }
        }

        void stop() {
            thread.interrupt();
            // Reads in flight (at most READ_THREADS row groups) finish and are dropped: interrupting them would
            // only make HDFS and S3 clients log interrupted-I/O warnings at the end of every run.
            pool.shutdown();
        }
    }
}
