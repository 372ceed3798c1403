package dev.ditspark.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The data position in {@code state.json}: in samples now, derived from the batch index in older files. */
class TrainingStateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anOlderStateWithoutSamplesInEpochDerivesThemFromItsBatchIndex() throws Exception {
        // As written before samples_in_epoch existed: batch 10 of epoch 0 at global batch 8.
        TrainingState old = JSON.readValue("""
                {"step":10,"epoch":0,"batch_in_epoch":10,"global_seed":0,"world_size":1,"images_seen":80,
                 "config":{"train":{"global_batch":8}}}""", TrainingState.class);
        assertNull(old.samplesInEpoch());
        assertEquals(80, old.samplesInEpochOrDerived());
    }

    @Test
    void theSamplePositionRoundTrips() throws Exception {
        TrainingState s = new TrainingState(12, 0, 7, 0, 1, 112, JSON.readTree("{\"train\":{\"global_batch\":16}}"), 112L);
        String text = JSON.writeValueAsString(s);
        TrainingState back = JSON.readValue(text, TrainingState.class);
        assertEquals(s, back);
        assertEquals(112, back.samplesInEpochOrDerived());
        assertEquals(true, text.contains("\"samples_in_epoch\":112"), text);
    }
}
