/**
 * One rank's training loop, independent of Spark: batches, the diffusion loss, backward, gradient allreduce,
 * AdamW, EMA, checkpoints, metrics and stop requests. The recipe's facts come from docs/recipe.md.
 */
package dev.ditspark.core.train;
