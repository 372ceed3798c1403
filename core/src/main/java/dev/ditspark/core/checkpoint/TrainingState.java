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
 * @param batchInEpoch the next batch's index within that epoch's shuffled order
 * @param globalSeed the run's seed (per-worker seed = global_seed·world_size + rank)
 * @param worldSize workers that wrote it (resuming with another count changes the data order)
 * @param imagesSeen images consumed so far, all workers together
 * @param config the run configuration, as given (never holds credentials)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainingState(
        long step,
        long epoch,
        long batchInEpoch,
        long globalSeed,
        int worldSize,
        long imagesSeen,
        JsonNode config) {
}
