/**
 * The {@code dit} command (picocli): train, prepare, sample, eval, info, convert, bench, plot, demo. It parses options
 * and wires the work done by core, spark-job and data-prep; local embedded Spark by default, spark-submit for clusters.
 */
package dev.ditspark.launcher;
