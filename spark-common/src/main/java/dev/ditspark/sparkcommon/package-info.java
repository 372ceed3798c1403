/**
 * The Spark plumbing every job of the project shares (training in spark-job, {@code dit prepare} in data-prep): a
 * task's GPU, the driver's Hadoop settings carried to executors, deterministic failures that end a job unretried,
 * and a barrier stage as the collective's rendezvous. Spark is {@code provided}, as in the jobs.
 */
package dev.ditspark.sparkcommon;
