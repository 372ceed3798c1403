/**
 * The training job on Spark: a barrier stage of one task per worker, rendezvous of the collective, data sharding,
 * progress and metrics to the driver, failures reported as one line.
 */
package dev.ditspark.spark;
