package dev.ditspark.core.bench;

import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentRecord;
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
 * How fast latent shards load into memory: Fashion-MNIST (60,000 training images by default) written as
 * float32 and float16, compressed and not, then read back whole with {@link LatentDataset} (column readers,
 * 1 and 4 threads) and, for comparison, with Parquet's generic record reader (GroupReadSupport). Prints MB/s of array bytes
 * (the in-memory payload, 4 arrays per row), MB/s of file bytes and samples/s; asserts nothing.
 *
 * <p>Usage: {@code ShardReadBenchmark [images] [repeats] [work dir]}. The files are in the OS page cache
 * after writing, so this measures decoding, not the disk.
 */
public final class ShardReadBenchmark {

    private ShardReadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        run(args.length > 0 ? Integer.parseInt(args[0]) : 60_000, args.length > 1 ? Integer.parseInt(args[1]) : 5,
                args.length > 2 ? Path.of(args[2]) : null, out);
        out.flush();
    }

    /**
     * Writes and reads the shards, printing to {@code out}.
     *
     * @param images Fashion-MNIST training images to use (at most 60,000)
     * @param repeats timed reads per case; the fastest is printed
     * @param workDir where the shards go (kept), or null for a temporary directory deleted afterwards
     */
    public static void run(int images, int repeats, Path workDir, PrintWriter out) throws IOException {
        Path work = workDir != null ? workDir : Files.createTempDirectory("shard-read-bench");
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
                .rowsPerShard(10_000).open()) {
            for (int i = 0; i < fm.count(); i++) {
                float[] img = fm.image(i);
                w.write(new LatentRecord(fm.labels()[i], img, zeros, FashionMnist.mirror(img, 28, 28), zeros,
                        "fashion-mnist/train/" + i));
            }
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
