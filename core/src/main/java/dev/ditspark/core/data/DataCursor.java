package dev.ditspark.core.data;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;

/**
 * Where a rank is in its data: the next batch to take is batch {@code batch} of epoch {@code epoch}'s
 * {@link EpochOrder}. Saved in checkpoints; with the same seed, share size and batch size, iteration
 * resumed from a cursor yields exactly the batches an uninterrupted run would have.
 */
public record DataCursor(@JsonProperty("epoch") int epoch, @JsonProperty("batch") int batch) implements Serializable {

    public static final DataCursor START = new DataCursor(0, 0);

    public DataCursor {
        if (epoch < 0 || batch < 0) {
            throw new IllegalArgumentException("data cursor (epoch " + epoch + ", batch " + batch + ") is negative");
        }
    }

    /** The cursor after this batch, rolling into the next epoch after {@code batchesPerEpoch} batches. */
    public DataCursor next(int batchesPerEpoch) {
        return batch + 1 >= batchesPerEpoch ? new DataCursor(epoch + 1, 0) : new DataCursor(epoch, batch + 1);
    }
}
