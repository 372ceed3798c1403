/**
 * Checkpoints on any Hadoop file system ({@code file://}, {@code hdfs://}, {@code s3a://}): one directory per step with
 * weights, EMA, optimizer state and {@code state.json}, a commit marker written last, the run directory and its lease.
 * See docs/architecture.md, "Checkpoints".
 */
package dev.ditspark.core.checkpoint;
