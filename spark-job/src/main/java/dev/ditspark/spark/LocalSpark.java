package dev.ditspark.spark;

import org.apache.spark.SparkConf;

/**
 * The embedded Spark of {@code --workers N} without {@code --master} ({@code dit train}, {@code dit sample},
 * {@code dit eval}): local[N,4] in this JVM, so a failed task is retried (up to 4 attempts), without the web UI.
 * No {@code spark.*} system property is loaded: the embedded Spark is configured here alone.
 */
public final class LocalSpark {
    private LocalSpark() {
    }

    /** The configuration of an embedded Spark with {@code workers} task slots, named {@code appName}. */
    public static SparkConf conf(String appName, int workers) {
        return new SparkConf(false)
                .setMaster("local[" + workers + ",4]")
                .setAppName(appName)
                .setIfMissing("spark.ui.enabled", "false");
    }
}
