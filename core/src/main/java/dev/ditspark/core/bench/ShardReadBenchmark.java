package dev.ditspark.core.bench;

import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.DataCursor;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentStream;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.data.LatentSubset;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * How fast latent shards load: Fashion-MNIST (60,000 training images by default) written as float32 and float16,
 * compressed and not, then read back whole with {@link LatentDataset} (column readers, 1 and 4 threads), with
 * Parquet's generic record reader (GroupReadSupport) for comparison, and streamed with {@link LatentStream} (the
 * trainer's reader: one epoch of batches of 256, decoded to float as a step takes them); then the same two readers on
 * random latents of the paper's row sizes (4×32×32 and 4×64×64 float16: 256 and 512 px). Prints samples/s, MB/s of
 * array bytes (4 arrays per row) and of file bytes, the bytes each reader holds and the JVM heap's peak (sampled every
 * 2 ms during the read); asserts nothing.
 *
 * <p>Usage: {@code ShardReadBenchmark [images] [repeats] [work dir] [stream budget MiB]}; {@link #runLatents}
 * ({@code dit bench loader --latent-px 256,512}) streams only the random latents. The files are in the OS page cache
 * after writing, so this measures decoding, not the disk.
 */
public final class ShardReadBenchmark {

    private ShardReadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        run(args.length > 0 ? Integer.parseInt(args[0]) : 60_000, args.length > 1 ? Integer.parseInt(args[1]) : 5,
                args.length > 2 && !args[2].isEmpty() ? Path.of(args[2]) : null, args.length > 3 ? Long.parseLong(args[3]) : 1024,
                out);
        out.flush();
    }

    /**
     * Writes and reads the shards, printing to {@code out}.
     *
     * @param images Fashion-MNIST training images to use (at most 60,000)
     * @param repeats timed reads per case; the fastest is printed
     * @param workDir where the shards go (kept), or null for a temporary directory deleted afterwards
     * @param memoryMb the streaming reader's budget ({@code data.memory_mb}), MiB
     */
    public static void run(int images, int repeats, Path workDir, long memoryMb, PrintWriter out) throws IOException {
        Path work = workDir != null ? workDir : Files.createTempDirectory("shard-read-bench");
        long budget = memoryMb << 20;
        Configuration conf = new Configuration();
        FashionMnist.Images fm = FashionMnist.installed().readImages(FashionMnist.Split.TRAIN, images);
        out.printf("Fashion-MNIST: %d images, %d cores, work dir %s%n", fm.count(),
                Runtime.getRuntime().availableProcessors(), work);
        try {
            for (LatentDType dtype : LatentDType.values()) {
                for (CompressionCodecName codec : new CompressionCodecName[] {CompressionCodecName.SNAPPY,
                        CompressionCodecName.UNCOMPRESSED}) {
                    String uri = work.resolve(dtype.id() + "-" + codec.name().toLowerCase()).toUri().toString();
                    long t0 = System.nanoTime();
                    write(fm, uri, dtype, codec, conf);
                    double writeS = (System.nanoTime() - t0) / 1e9;
                    measure(uri, dtype + " " + codec, writeS, repeats, conf, out);
                    int batch = Math.min(256, fm.count()); // a small --images still streams whole batches
                    stream(uri, conf, budget, batch); // warm-up (JIT), as best() does for the others
                    stream(uri, conf, budget, batch).print(out, "  streamed, 1 stream");
                }
            }
            for (int side : new int[] {32, 64}) {
                String uri = work.resolve("latent-" + side).toUri().toString();
                int rows = side == 32 ? 16_000 : 4_000;
                long t0 = System.nanoTime();
                CompressionCodecName used = writeLatents(uri, rows, side, null, conf);
                out.printf("%nrandom latents 4x%dx%d float16 (%d px), %s: %d rows, written in %.1f s%n", side, side,
                        side * 8, used.name().toLowerCase(java.util.Locale.ROOT), rows, (System.nanoTime() - t0) / 1e9);
                whole(uri, conf, 4).print(out, "  whole share, 4 threads");
                stream(uri, conf, budget, 256).print(out, "  streamed, 1 stream");
            }
        } finally {
            if (workDir == null) {
                deleteTree(work);
            }
        }
    }

    /**
     * Only the random-latent streamed case, the trainer's path at the paper's row sizes: for each side in
     * {@code pxs} (256 or 512 px: 4×32×32 or 4×64×64 float16, uncompressed as {@code dit prepare} writes latents,
     * 1,000-row shards) writes {@code rows} rows
     * (0: 16,000 at 256 px, 4,000 at 512 px, 500 MiB of arrays each) and streams them one epoch, once untimed (JIT)
     * and {@code repeats} times timed, printing each run's rows/s and rows per CPU-second of this process.
     *
     * @param pxs image sides in px, each a multiple of 8 (the latent side is px / 8)
     * @param rows rows to write, or 0 for the default above
     * @param repeats timed epochs per side
     * @param workDir where the shards go (kept), or null for a temporary directory deleted afterwards
     * @param memoryMb the streaming reader's budget ({@code data.memory_mb}), MiB
     */
    public static void runLatents(int[] pxs, int rows, int repeats, Path workDir, long memoryMb, PrintWriter out)
            throws IOException {
        runLatents(pxs, rows, repeats, workDir, memoryMb, null, out);
    }

    /**
     * {@link #runLatents(int[], int, int, Path, long, PrintWriter)} with the shards' page compression: {@code codec},
     * or null for what {@code dit prepare} writes for latents ({@link LatentShardWriter#defaultCompression}).
     */
    public static void runLatents(int[] pxs, int rows, int repeats, Path workDir, long memoryMb,
                                  CompressionCodecName codec, PrintWriter out) throws IOException {
        Path work = workDir != null ? workDir : Files.createTempDirectory("shard-read-bench");
        out.printf("random latents, streamed: %d cores, budget %d MiB, work dir %s%n",
                Runtime.getRuntime().availableProcessors(), memoryMb, work);
        try {
            for (int px : pxs) {
                if (px <= 0 || px % 8 != 0) {
                    throw new IllegalArgumentException("--latent-px: image sides must be positive multiples of 8, got " + px);
                }
                int side = px / 8;
                int n = rows > 0 ? rows : (int) Math.max(256, (500L << 20) / (4L * 2 * 4 * side * side));
                String uri = work.resolve("latent-" + side).toUri().toString();
                long t0 = System.nanoTime();
                CompressionCodecName used = writeLatents(uri, n, side, codec, new Configuration());
                long raw = (long) n * 4 * 4 * side * side * 2; // four float16 arrays of 4×side×side per row
                out.printf("%nrandom latents 4x%dx%d float16 (%d px), %s: %d rows, written in %.1f s, %.1f MiB of shards "
                                + "(%.2f of the arrays' raw size)%n", side, side, px, used.name().toLowerCase(java.util.Locale.ROOT),
                        n, (System.nanoTime() - t0) / 1e9, fileBytes(uri) / 1048576.0, fileBytes(uri) / (double) raw);
                int batch = Math.min(256, n);
                stream(uri, new Configuration(), memoryMb << 20, batch); // warm-up (JIT)
                for (int i = 0; i < Math.max(1, repeats); i++) {
                    stream(uri, new Configuration(), memoryMb << 20, batch).print(out, "  streamed, 1 stream, run " + (i + 1));
                }
            }
        } finally {
            if (workDir == null) {
                deleteTree(work);
            }
        }
    }

    private static void write(FashionMnist.Images fm, String uri, LatentDType dtype, CompressionCodecName codec,
                              Configuration conf) throws IOException {
        DatasetManifest layout = DatasetManifest.describe(1, 28, 28, dtype, DatasetManifest.NO_ENCODER, 1.0, 28,
                FashionMnist.CLASS_NAMES, "fashion-mnist/train");
        float[] zeros = new float[784];
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout).conf(conf).compression(codec)
                .rowsPerShard(10_000).overwrite(true).open()) {
            for (int i = 0; i < fm.count(); i++) {
                float[] img = fm.image(i);
                w.write(new LatentRecord(fm.labels()[i], img, zeros, FashionMnist.mirror(img, 28, 28), zeros,
                        "fashion-mnist/train/" + i));
            }
        }
    }

    /**
     * One read's figures: rows and array bytes delivered per second, what the reader held at most (its own count:
     * the share's arrays, or {@link LatentStream#peakHeldBytes()}) and the JVM's used heap at its peak.
     */
    public record Result(long rows, double seconds, double cpuSeconds, long arrayBytes, long heldBytes, long heapPeakBytes,
                         String note) {
        public double rowsPerSecond() {
            return rows / seconds;
        }

        /** Rows per second of this process's CPU time (all its threads, the collector's included). */
        public double rowsPerCpuSecond() {
            return rows / cpuSeconds;
        }

        public void print(PrintWriter out, String what) {
            out.printf("%s: %.3f s (%.3f s CPU), %8.0f samples/s, %8.0f rows per CPU-second, %7.0f MB/s of arrays, "
                            + "reader holds %.1f MiB, heap peak %.1f MiB%s%n", what, seconds, cpuSeconds, rowsPerSecond(),
                    rowsPerCpuSecond(), arrayBytes / seconds / 1e6,
                    heldBytes / 1048576.0, heapPeakBytes / 1048576.0, note.isEmpty() ? "" : " (" + note + ")");
        }
    }

    /** Loads the whole dataset (rank 0 of 1) with {@code threads} shards at once. */
    public static Result whole(String uri, Configuration conf, int threads) throws IOException {
        LatentDataset ds = LatentDataset.open(uri, conf).withReadThreads(threads);
        DatasetManifest m = ds.manifest();
        try (HeapSampler heap = new HeapSampler()) {
            long t0 = System.nanoTime();
            double c0 = cpuSeconds();
            LatentSubset all = ds.loadAll();
            double s = (System.nanoTime() - t0) / 1e9;
            return new Result(all.size(), s, cpuSeconds() - c0, 4L * all.size() * m.bytesPerArray(), all.arrayBytes(),
                    heap.peak(), "");
        }
    }

    /**
     * Streams one epoch of one stream (one worker) with a budget of {@code budget} bytes in batches of {@code batch},
     * every sample decoded to float as the trainer takes it (the pair of arrays of the orientation the paper's random
     * mirror draws for it, {@link dev.ditspark.core.train.TrainingBatch#mirrored}); the time includes the first
     * window's wait.
     */
    public static Result stream(String uri, Configuration conf, long budget, int batch) throws IOException {
        LatentDataset ds = LatentDataset.open(uri, conf);
        DatasetManifest m = ds.manifest();
        try (HeapSampler heap = new HeapSampler()) {
            long t0 = System.nanoTime();
            double c0 = cpuSeconds();
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long consumer0 = threads.getCurrentThreadCpuTime();
            try (LatentStream s = LatentStream.open(ds, 0, 1, 0, 1, batch, budget).start(DataCursor.START)) {
                int batches = s.shareSize() / batch;
                for (int b = 0; b < batches; b++) {
                    s.next(dev.ditspark.core.train.TrainingBatch.mirrored(0, b, true));
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                long rows = (long) batches * batch;
                return new Result(rows, sec, cpuSeconds() - c0, 4L * rows * m.bytesPerArray(), s.peakHeldBytes(), heap.peak(),
                        String.format("budget %d MiB, %s of %d rows, %d row groups, waited %.2f s for data, "
                                        + "%.3f s CPU in the consumer's next()", budget >> 20,
                                s.resident() ? "read once: one window" : "windows", s.windowRows(), s.rowGroupCount(),
                                s.waitSeconds(), (threads.getCurrentThreadCpuTime() - consumer0) / 1e9));
            }
        }
    }

    /** This process's CPU time (all threads) in seconds. */
    static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    /**
     * Random float16 latents of shape 4×side×side (the paper's VAE at 8·side px), 10 classes, in 1,000-row shards,
     * with page compression {@code codec} (null: the writer's default for latents); returns the codec used.
     */
    public static CompressionCodecName writeLatents(String uri, int rows, int side, CompressionCodecName codec,
                                                    Configuration conf) throws IOException {
        DatasetManifest layout = DatasetManifest.describe(4, side, side, LatentDType.FLOAT16, "random", 0.18215, side * 8,
                FashionMnist.CLASS_NAMES, "random latents");
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        int n = 4 * side * side;
        CompressionCodecName used = codec != null ? codec : LatentShardWriter.defaultCompression(layout);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout).conf(conf).compression(used).rowsPerShard(1000)
                .overwrite(true).open()) {
            for (int i = 0; i < rows; i++) {
                float[][] a = new float[4][n];
                for (float[] x : a) {
                    for (int k = 0; k < n; k++) {
                        x[k] = (float) r.nextGaussian();
                    }
                }
                w.write(new LatentRecord(r.nextInt(10), a[0], a[1], a[2], a[3], "random/" + i));
            }
        }
        return used;
    }

    /** The JVM's used heap sampled every 2 ms on a daemon thread; {@link #peak} is the largest sample. */
    static final class HeapSampler implements AutoCloseable {
        private final java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        private final java.util.concurrent.atomic.AtomicLong peak = new java.util.concurrent.atomic.AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        HeapSampler() {
            System.gc();
            thread = new Thread(() -> {
                while (running) {
                    peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        long peak() {
            peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            return peak.get();
        }

        @Override
        public void close() {
            running = false;
            thread.interrupt();
        }
    }

    private static void measure(String uri, String what, double writeSeconds, int repeats, Configuration conf,
            PrintWriter out) throws IOException {
        LatentDataset ds = LatentDataset.open(uri, conf);
        DatasetManifest m = ds.manifest();
        long fileBytes = fileBytes(uri);
        long arrayBytes = 4L * m.count() * m.bytesPerArray();
        out.printf("%n%s: %d rows in %d shards, files %.1f MB, arrays %.1f MB, written in %.2f s%n", what,
                m.count(), m.shards().size(), fileBytes / 1e6, arrayBytes / 1e6, writeSeconds);
        for (int threads : new int[] {1, 4}) {
            LatentDataset d = ds.withReadThreads(threads);
            double s = best(repeats, () -> d.loadAll());
            report(out, "  column readers (CRC checked), " + threads + " thread" + (threads > 1 ? "s" : " "), s, m.count(), arrayBytes,
                    fileBytes);
        }
        if ((long) m.bytesPerArray() * m.count() <= Integer.MAX_VALUE) {
            double s = best(Math.min(repeats, 3), () -> readGroups(uri, m, conf));
            report(out, "  Group records (no CRC check), 1 thread", s, m.count(), arrayBytes, fileBytes);
        }

        LatentSubset all = ds.loadAll();
        float[] buf = new float[m.elementsPerArray()];
        double decode = best(repeats, () -> {
            for (int i = 0; i < all.size(); i++) {
                all.copy(i, LatentSubset.Field.MEAN, buf, 0);
                all.copy(i, LatentSubset.Field.STD, buf, 0);
            }
            return buf;
        });
        out.printf("  decode to float (mean+std, as a training step does): %.0f samples/s, %.0f MB/s of arrays%n",
                all.size() / decode, all.size() * 2.0 * m.bytesPerArray() / decode / 1e6);
    }

    /** The same load through Parquet's record API: one Group per row, copied into one byte[] per field. */
    private static Object readGroups(String uri, DatasetManifest m, Configuration conf) throws IOException {
        int bytes = m.bytesPerArray();
        String[] fields = {"mean", "std", "mean_flip", "std_flip"};
        byte[][] store = new byte[4][Math.toIntExact((long) bytes * m.count())];
        int[] labels = new int[(int) m.count()];
        int row = 0;
        for (DatasetManifest.Shard shard : m.shards()) {
            var path = new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(uri), shard.file());
            try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), path).withConf(conf).build()) {
                for (Group g = r.read(); g != null; g = r.read(), row++) {
                    labels[row] = g.getInteger("label", 0);
                    for (int f = 0; f < 4; f++) {
                        g.getBinary(fields[f], 0).toByteBuffer().get(store[f], row * bytes, bytes);
                    }
                }
            }
        }
        return store;
    }

    private static void report(PrintWriter out, String what, double seconds, long rows, long arrayBytes,
            long fileBytes) {
        out.printf("%s: %.3f s, %8.0f samples/s, %7.0f MB/s of arrays, %7.0f MB/s of files%n", what, seconds,
                rows / seconds, arrayBytes / seconds / 1e6, fileBytes / seconds / 1e6);
    }

    private interface Work {
        Object run() throws IOException;
    }

    /** The fastest of {@code repeats} runs after one warm-up (JIT, page cache). */
    private static double best(int repeats, Work work) throws IOException {
        work.run();
        double[] t = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            work.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        return Arrays.stream(t).min().orElseThrow();
    }

    private static long fileBytes(String uri) throws IOException {
        try (Stream<Path> files = Files.list(Path.of(java.net.URI.create(uri)))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
