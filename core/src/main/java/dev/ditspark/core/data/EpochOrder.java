package dev.ditspark.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A full permutation of a whole share per epoch: the order training used before the streaming reader (issue 12),
 * kept as the reference {@code ClassMixBenchmark} compares {@link LatentStream}'s windows with, and for its seed
 * mixing ({@link #mix}), which {@link LatentStream} shares. The order in which one rank visits its share in one epoch: a permutation of {@code 0..size-1} drawn by
 * Fisher-Yates from {@code (seed, epoch)} alone, so every rank, restart and retry recomputes the same order
 * without saving it. Each sample is visited exactly once per epoch; {@link #batches} drops the last partial
 * batch, as {@code drop_last} does. Pass the per-worker seed (docs/recipe.md, "Data": global_seed·world_size + rank).
 */
public final class EpochOrder {

    /**
     * One batch: the cursor it was taken at, the cursor to resume from after it (what a checkpoint taken
     * after this batch saves), and the positions in the rank's share.
     */
    public record Batch(DataCursor cursor, DataCursor next, int[] indices) {
    }

    private final long seed;
    private final int epoch;
    private final int[] order;

    private EpochOrder(long seed, int epoch, int[] order) {
        this.seed = seed;
        this.epoch = epoch;
        this.order = order;
    }

    /** The order of epoch {@code epoch} over a share of {@code size} samples. */
    public static EpochOrder of(int size, long seed, int epoch) {
        if (size < 0 || epoch < 0) {
            throw new IllegalArgumentException("size " + size + ", epoch " + epoch + " must be ≥ 0");
        }
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(mix(seed, epoch));
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new EpochOrder(seed, epoch, order);
    }

    /** SplitMix64's finaliser over seed and epoch: neighbouring seeds or epochs give unrelated streams. */
    static long mix(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long seed() {
        return seed;
    }

    public int epoch() {
        return epoch;
    }

    public int size() {
        return order.length;
    }

    /** The share position visited at step {@code position} of this epoch. */
    public int get(int position) {
        return order[position];
    }

    /** The whole permutation (a copy). */
    public int[] indices() {
        return order.clone();
    }

    /** Full batches in one epoch: {@code size / batchSize}. */
    public int batchCount(int batchSize) {
        return batchCount(order.length, batchSize);
    }

    private static int batchCount(int size, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        }
        return size / batchSize;
    }

    /** Batch {@code batchIndex} of this epoch. */
    public int[] batch(int batchSize, int batchIndex) {
        int count = batchCount(batchSize);
        if (batchIndex < 0 || batchIndex >= count) {
            throw new IndexOutOfBoundsException("batch " + batchIndex + " outside [0, " + count + ")");
        }
        return Arrays.copyOfRange(order, batchIndex * batchSize, (batchIndex + 1) * batchSize);
    }

    /** This epoch's full batches in order; the last {@code size mod batchSize} positions are left out. */
    public List<int[]> batches(int batchSize) {
        int count = batchCount(batchSize);
        List<int[]> out = new ArrayList<>(count);
        for (int b = 0; b < count; b++) {
            out.add(Arrays.copyOfRange(order, b * batchSize, (b + 1) * batchSize));
        }
        return out;
    }

    /** The {@code count} share positions visited from sample {@code position} of this epoch on. */
    public int[] slice(int position, int count) {
        if (position < 0 || count < 0 || (long) position + count > order.length) {
            throw new IndexOutOfBoundsException("samples [" + position + ", " + ((long) position + count) + ") outside [0, "
                    + order.length + ")");
        }
        return Arrays.copyOfRange(order, position, position + count);
    }

    /**
     * Batches from {@code from} on, epoch after epoch, without end. The training loop saves
     * {@link Batch#next()} with each checkpoint and restarts here from it (a cursor left with no full batch in
     * its epoch, e.g. saved with a smaller batch, continues at the next epoch).
     */
    public static Iterator<Batch> stream(int size, long seed, int batchSize, DataCursor from) {
        DataCursor first = from.settle(batchSize, size);
        return new Iterator<>() {
            private DataCursor cursor = first;
            private EpochOrder order = EpochOrder.of(size, seed, first.epoch());

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Batch next() {
                if (order.epoch() != cursor.epoch()) {
                    order = EpochOrder.of(size, seed, cursor.epoch());
                }
                DataCursor after = cursor.advance(batchSize, size);
                Batch b = new Batch(cursor, after, order.slice(cursor.position(), batchSize));
                cursor = after;
                return b;
            }
        };
    }
}
