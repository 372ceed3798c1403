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

    @Test
    void aCursorThatDoesNotFitTheShareIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> EpochOrder.stream(53, 1, 8, new DataCursor(0, 6)));
        assertThrows(IllegalArgumentException.class, () -> EpochOrder.stream(5, 1, 8, DataCursor.START));
        assertThrows(IllegalArgumentException.class, () -> new DataCursor(-1, 0));
    }
}
