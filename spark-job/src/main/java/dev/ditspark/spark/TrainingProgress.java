package dev.ditspark.spark;

import java.io.Serializable;

/**
 * What rank 0 last logged, as the driver's metrics see it.
 *
 * @param step optimizer steps completed
 * @param loss window mean of the loss at that step (metrics.jsonl's "loss")
 * @param imagesPerSecond images per second over the window, all workers
 */
record TrainingProgress(long step, double loss, double imagesPerSecond) implements Serializable {
}
