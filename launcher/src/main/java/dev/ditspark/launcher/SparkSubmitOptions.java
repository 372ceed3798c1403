package dev.ditspark.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --conf} and {@code --properties-file}, the spark-submit settings that {@code dit train}, {@code dit sample}
 * and {@code dit eval} take with {@code --master} (each command describes its own {@code --master} and
 * {@code --deploy-mode}).
 */
final class SparkSubmitOptions {
    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "With --master: a Spark setting (repeatable).")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--properties-file", paramLabel = "FILE",
            description = "With --master: spark-defaults to load, e.g. conf/spark-defaults.conf on GPU clusters.")
    Path propertiesFile;

    /** These settings with the command's {@code --master} (null: none) and {@code --deploy-mode}. */
    SparkSubmission.Options with(String master, String deployMode) {
        return new SparkSubmission.Options(master, deployMode, sparkConf, propertiesFile);
    }
}
