package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditspark.core.data.EpochOrder.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EpochOrderTest {

    @Test
    void sameSeedAndEpochGiveTheSameOrder() {
        assertArrayEquals(EpochOrder.of(1000, 42, 3).indices(), EpochOrder.of(1000, 42, 3).indices());
    }

    @Test
    void eachEpochIsAPermutation() {
        for (int epoch = 0; epoch < 5; epoch++) {
            int[] order = EpochOrder.of(997, 7, epoch).indices();
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) {
                assertEquals(i, sorted[i]);
            }
        }
        assertEquals(0, EpochOrder.of(0, 1, 0).size());
        assertArrayEquals(new int[] {0}, EpochOrder.of(1, 1, 0).indices());
    }

    @Test
    void epochsAndSeedsGiveDifferentOrders() {
        Set<String> orders = new HashSet<>();
        for (int epoch = 0; epoch < 10; epoch++) {
            orders.add(Arrays.toString(EpochOrder.of(100, 1, epoch).indices()));
        }
        orders.add(Arrays.toString(EpochOrder.of(100, 2, 0).indices()));
        assertEquals(11, orders.size());
        // Not the identity, and the first position is spread over the share across epochs.
        int[] identity = EpochOrder.of(100, 1, 0).indices();
        Arrays.sort(identity);
        assertFalse(Arrays.equals(identity, EpochOrder.of(100, 1, 0).indices()));
        Set<Integer> firsts = new HashSet<>();
        for (int epoch = 0; epoch < 50; epoch++) {
            firsts.add(EpochOrder.of(100, 1, epoch).get(0));
        }
        assertFalse(firsts.size() < 25, "first positions over 50 epochs: " + firsts);
    }

    @Test
    void batchesDropTheLastPartialBatch() {
        EpochOrder order = EpochOrder.of(103, 5, 0);
        List<int[]> batches = order.batches(10);
        assertEquals(10, batches.size());
        assertEquals(10, order.batchCount(10));
        int[] flat = batches.stream().flatMapToInt(Arrays::stream).toArray();
        assertArrayEquals(Arrays.copyOf(order.indices(), 100), flat);
        assertArrayEquals(batches.get(7), order.batch(10, 7));
        assertThrows(IndexOutOfBoundsException.class, () -> order.batch(10, 10));
    }

    @Test
    void resumingFromACursorGivesTheSameRemainingBatches() {
        int size = 53;
        int batch = 8; // 6 batches per epoch, 5 samples dropped each epoch
        Iterator<Batch> uninterrupted = EpochOrder.stream(size, 99, batch, DataCursor.START);
        List<Batch> run = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            run.add(uninterrupted.next());
        }
        assertEquals(new DataCursor(0, 0), run.get(0).cursor());
        assertEquals(new DataCursor(0, 16), run.get(2).cursor());
        assertEquals(new DataCursor(1, 0), run.get(6).cursor());
        assertEquals(new DataCursor(1, 0), run.get(5).next());
        // Batches of one epoch come from that epoch's order.
        assertArrayEquals(EpochOrder.of(size, 99, 2).batch(batch, 3), run.get(15).indices());

        for (int stop = 0; stop < 20; stop++) {
            DataCursor saved = run.get(stop).next(); // "checkpoint after batch stop"
            Iterator<Batch> resumed = EpochOrder.stream(size, 99, batch, saved);
            for (int i = stop + 1; i < 20; i++) {
                Batch b = resumed.next();
                assertEquals(run.get(i).cursor(), b.cursor());
                assertArrayEquals(run.get(i).indices(), b.indices(), "batch " + i + " after resuming at " + stop);
            }
        }
    }

    /**
     * Issue 10 item 7: 10 steps at batch 8 on 200 samples, resumed at batch 16, continue at sample 80, not 160;
     * resumed from step 20 (sample 160, batch index 20 of 25) at batch 16 there is no batch 20 of 12: the epoch
     * goes on from sample 160 and rolls over when the rest holds no full batch.
     */
    @Test
    void aChangedBatchSizeContinuesWhereTheDataStopped() {
        int size = 200;
        int[] epoch0 = EpochOrder.of(size, 7, 0).indices();
        Iterator<Batch> small = EpochOrder.stream(size, 7, 8, DataCursor.START);
        DataCursor saved = null;
        for (int i = 0; i < 10; i++) {
            saved = small.next().next();
        }
        assertEquals(new DataCursor(0, 80), saved);
        Iterator<Batch> big = EpochOrder.stream(size, 7, 16, saved);
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 7; i++) { // 80 + 7·16 = 192: the last 8 samples are dropped (drop_last)
            Batch b = big.next();
            assertEquals(0, b.cursor().epoch());
            Arrays.stream(b.indices()).forEach(seen::add);
        }
        assertEquals(Arrays.stream(Arrays.copyOfRange(epoch0, 80, 192)).boxed().toList(), seen,
                "the remaining samples of the epoch, each once, in order");
        Batch rolled = big.next();
        assertEquals(new DataCursor(1, 0), rolled.cursor());
        assertArrayEquals(EpochOrder.of(size, 7, 1).slice(0, 16), rolled.indices());

        DataCursor at20 = new DataCursor(0, 160);
        Iterator<Batch> fromStep20 = EpochOrder.stream(size, 7, 16, at20);
        assertArrayEquals(Arrays.copyOfRange(epoch0, 160, 176), fromStep20.next().indices());
        assertArrayEquals(Arrays.copyOfRange(epoch0, 176, 192), fromStep20.next().indices());
        assertEquals(new DataCursor(1, 0), fromStep20.next().cursor());
        // A larger batch than the rest of the epoch holds starts the next epoch.
        assertEquals(new DataCursor(1, 0), EpochOrder.stream(size, 7, 48, at20).next().cursor());
    }

    /** The cursor is kept for all workers together, so another worker count resumes at the same fraction of the epoch. */
    @Test
    void aChangedWorkerCountResumesAtTheSameShareOfTheEpoch() {
        // 2 workers of 100 samples each, 5 steps of 8 per worker: 80 samples of the epoch taken.
        DataCursor two = new DataCursor(0, 40);
        assertEquals(80, two.samplesInEpoch(2));
        // 4 workers of 50 each continue at 20 of their 50; 1 worker of 200 at 80.
        assertEquals(new DataCursor(0, 20), DataCursor.resume(0, 80, 4, 8, 50));
        assertEquals(new DataCursor(0, 80), DataCursor.resume(0, 80, 1, 16, 200));
        assertEquals(new DataCursor(3, 0), DataCursor.resume(2, 90, 2, 8, 50), "too little left: next epoch");
    }

    @Test
    void aCursorThatDoesNotFitTheShareIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> EpochOrder.stream(5, 1, 8, DataCursor.START));
        assertThrows(IllegalArgumentException.class, () -> new DataCursor(0, 48).advance(8, 53));
        assertThrows(IllegalArgumentException.class, () -> new DataCursor(-1, 0));
    }
}
