package dev.ditspark.core.data;

import java.io.Serializable;

/**
 * Where a rank is in its data, counted in samples: the next batch starts at position {@code position} of epoch
 * {@code epoch}'s {@link EpochOrder} over the rank's share. Counting samples rather than batches lets a run
 * resume with another batch size or worker count and continue where the data stopped (a batch index would
 * skip or repeat {@code index · (new − old)} samples); with the same seed, share and batch size, iteration
 * resumed from a cursor yields exactly the batches an uninterrupted run would have.
 *
 * <p>An epoch ends when the rest of the order holds no full batch (PyTorch's {@code drop_last}); the cursor
 * then rolls to position 0 of the next epoch.
 *
 * @param epoch the epoch of the next batch, ≥ 0
 * @param position samples of this rank's share already taken in that epoch, ≥ 0
 */
public record DataCursor(int epoch, int position) implements Serializable {
    private static final long serialVersionUID = 2L;

    public static final DataCursor START = new DataCursor(0, 0);

    public DataCursor {
        if (epoch < 0 || position < 0) {
            throw new IllegalArgumentException("data cursor (epoch " + epoch + ", sample " + position + ") is negative");
        }
    }

    /**
     * The cursor of a rank that resumes a run in which all workers together had taken {@code samplesInEpoch}
     * samples of epoch {@code epoch}: each of {@code worldSize} ranks takes its equal part, so the epoch
     * continues at the same fraction whatever the worker count. Rolls to the next epoch when the rank's
     * share of {@code shareSize} has no full batch of {@code batchSize} left.
     */
    public static DataCursor resume(long epoch, long samplesInEpoch, int worldSize, int batchSize, int shareSize) {
        if (samplesInEpoch < 0 || worldSize <= 0) {
            throw new IllegalArgumentException("samples in epoch " + samplesInEpoch + ", world size " + worldSize);
        }
        long position = samplesInEpoch / worldSize;
        return new DataCursor(Math.toIntExact(epoch), (int) Math.min(position, shareSize)).settle(batchSize, shareSize);
    }

    /** This cursor, or position 0 of the next epoch when fewer than {@code batchSize} samples of the share remain. */
    public DataCursor settle(int batchSize, int shareSize) {
        checkBatch(batchSize, shareSize);
        return (long) position + batchSize > shareSize ? new DataCursor(epoch + 1, 0) : this;
    }

    /** The cursor after taking one batch of {@code batchSize} here; rolls into the next epoch as {@link #settle} does. */
    public DataCursor advance(int batchSize, int shareSize) {
        checkBatch(batchSize, shareSize);
        if ((long) position + batchSize > shareSize) {
            throw new IllegalArgumentException("no full batch of " + batchSize + " at sample " + position
                    + " of a share of " + shareSize);
        }
        return new DataCursor(epoch, position + batchSize).settle(batchSize, shareSize);
    }

    /** Samples of this epoch taken by all {@code worldSize} workers together: what a checkpoint stores. */
    public long samplesInEpoch(int worldSize) {
        return (long) position * worldSize;
    }

    private static void checkBatch(int batchSize, int shareSize) {
        if (batchSize <= 0 || batchSize > shareSize) {
            throw new IllegalArgumentException("a share of " + shareSize + " samples holds no full batch of " + batchSize);
        }
    }
}
