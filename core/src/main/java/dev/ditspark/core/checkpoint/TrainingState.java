package dev.ditspark.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The {@code state.json} of a checkpoint: everything besides tensors that an exact resume needs.
 * Random draws are pure functions of (seed, rank, step), so the step is the whole RNG state.
 *
 * @param step optimizer steps completed
 * @param epoch the data epoch the next batch comes from
 * @param batchInEpoch the next batch's index within that epoch's shuffled order, at the batch size it was
 *     written with (informational since {@code samplesInEpoch}; files without that field resume from this)
 * @param globalSeed the run's seed (per-worker seed = global_seed·world_size + rank)
 * @param worldSize workers that wrote it (resuming with another count changes the data order)
 * @param imagesSeen images consumed so far, all workers together
 * @param config the run configuration, as given (never holds credentials)
 * @param samplesInEpoch samples of {@code epoch} already taken, all workers together: the data position
 *     that survives a change of batch size or worker count ({@code null} in files written before it existed)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainingState(
        long step,
        long epoch,
        long batchInEpoch,
        long globalSeed,
        int worldSize,
        long imagesSeen,
        JsonNode config,
        Long samplesInEpoch) {

    /** A state without the sample position (as files written before {@code samples_in_epoch} read back). */
    public TrainingState(long step, long epoch, long batchInEpoch, long globalSeed, int worldSize, long imagesSeen,
                         JsonNode config) {
        this(step, epoch, batchInEpoch, globalSeed, worldSize, imagesSeen, config, null);
    }

    /**
     * Samples of {@code epoch} already taken by all workers together; for an older file, derived from its batch
     * index and the global batch of the configuration it stored.
     */
    public long samplesInEpochOrDerived() {
        if (samplesInEpoch != null) {
            return samplesInEpoch;
        }
        return batchInEpoch * config.path("train").path("global_batch").asLong(0);
    }
}
