package dev.ditspark.core.bench;

import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.EpochOrder;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentDataset;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.data.LatentStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * How well the batches mix classes (issue 12): Fashion-MNIST's 60,000 training rows written in their shipped order
 * (already shuffled) and sorted by class (the worst case: an image folder prepared without a hashing shuffle), in
 * 500-row row groups, then the global batches of 8 workers x 32 drawn by the whole-share reader (each rank a
 * contiguous block, permuted in full) and by the streaming reader at two budgets. Per global batch: distinct classes
 * and the total-variation distance of its class histogram from the dataset's (0: the dataset's mix; 1: disjoint),
 * averaged over epoch 0. Only footers are read (the orders are planned, not streamed); asserts nothing.
 *
 * <p>Usage: {@code ClassMixBenchmark [work dir]}.
 */
public final class ClassMixBenchmark {
    private static final int WORKERS = 8;
    private static final int BATCH = 256;

    private ClassMixBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path work = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("class-mix-bench");
        FashionMnist.Images fm = FashionMnist.installed().readImages(FashionMnist.Split.TRAIN, 60_000);
        int[] shipped = fm.labels().clone();
        Integer[] byClass = IntStream.range(0, fm.count()).boxed().sorted(Comparator.comparingInt(i -> shipped[i]))
                .toArray(Integer[]::new);
        for (boolean sorted : new boolean[] {false, true}) {
            String uri = work.resolve(sorted ? "sorted" : "shipped").toUri().toString();
            int[] labels = new int[fm.count()];
            DatasetManifest layout = DatasetManifest.describe(1, 28, 28, LatentDType.FLOAT16, DatasetManifest.NO_ENCODER,
                    1.0, 28, FashionMnist.CLASS_NAMES, "fashion-mnist/train");
            float[] zeros = new float[784];
            try (LatentShardWriter w = LatentShardWriter.to(uri, layout).rowsPerShard(500)
                    .compression(CompressionCodecName.UNCOMPRESSED).overwrite(true).open()) {
                for (int row = 0; row < fm.count(); row++) {
                    int i = sorted ? byClass[row] : row;
                    labels[row] = shipped[i];
                    w.write(new LatentRecord(shipped[i], fm.image(i), zeros, zeros, zeros, "fm/" + i));
                }
            }
            System.out.printf("%nFashion-MNIST train, %s, 120 row groups of 500 rows; global batch %d = %d workers x %d%n",
                    sorted ? "sorted by class" : "shipped order", BATCH, WORKERS, BATCH / WORKERS);
            report("whole-share reader (contiguous rank blocks, full permutation)", wholeShare(labels), labels);
            LatentDataset ds = LatentDataset.open(uri);
            for (int mib : new int[] {64, 32}) {
                LatentStream s = LatentStream.open(ds, 0, WORKERS, 0, WORKERS, BATCH, (long) mib << 20);
                long[][] streams = new long[WORKERS][];
                for (int k = 0; k < WORKERS; k++) {
                    streams[k] = s.order(0, k);
                }
                int batches = s.shareSize() / s.streamBatch();
                long[][] global = new long[batches][BATCH];
                for (int b = 0; b < batches; b++) {
                    for (int k = 0; k < WORKERS; k++) {
                        System.arraycopy(streams[k], b * s.streamBatch(), global[b], k * s.streamBatch(), s.streamBatch());
                    }
                }
                report(String.format("streaming, data.memory_mb %d: windows of %d rows (%.1f row groups)", mib,
                        s.windowRows(), s.windowRows() / 500.0), global, labels);
            }
        }
    }

    /** The reader before issue 12: rank r permutes rows [r·n, (r+1)·n) with seed·W + r; batch k takes 32 of each. */
    private static long[][] wholeShare(int[] labels) {
        int n = labels.length / WORKERS;
        int per = BATCH / WORKERS;
        int batches = n / per;
        long[][] global = new long[batches][BATCH];
        for (int r = 0; r < WORKERS; r++) {
            EpochOrder o = EpochOrder.of(n, (long) WORKERS + r, 0);
            for (int b = 0; b < batches; b++) {
                for (int i = 0; i < per; i++) {
                    global[b][r * per + i] = (long) r * n + o.get(b * per + i);
                }
            }
        }
        return global;
    }

    private static void report(String what, long[][] batches, int[] labels) {
        int classes = FashionMnist.CLASS_NAMES.size();
        double[] dataset = new double[classes];
        for (int l : labels) {
            dataset[l] += 1.0 / labels.length;
        }
        double distinct = 0;
        double tv = 0;
        double worstTv = 0;
        for (long[] batch : batches) {
            double[] h = new double[classes];
            for (long row : batch) {
                h[labels[(int) row]] += 1.0 / batch.length;
            }
            distinct += Arrays.stream(h).filter(x -> x > 0).count();
            double d = 0;
            for (int c = 0; c < classes; c++) {
                d += Math.abs(h[c] - dataset[c]) / 2;
            }
            tv += d;
            worstTv = Math.max(worstTv, d);
        }
        System.out.printf("  %-80s %5.2f classes of %d per batch, TV distance mean %.3f, worst %.3f (%d batches)%n", what,
                distinct / batches.length, classes, tv / batches.length, worstTv, batches.length);
    }

}
