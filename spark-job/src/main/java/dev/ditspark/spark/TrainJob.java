package dev.ditspark.spark;

import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.config.RunConfig;
import java.io.IOException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The spark-submit entry point: {@code TrainJob --config run.yaml [--set section.field=value ...]}. The config
 * file is read on the driver (ship it with --files or give a path the driver can read).
 */
public final class TrainJob {
    private static final String USAGE = "usage: TrainJob --config run.yaml | --config-json JSON [--set section.field=value ...]";

    private TrainJob() {
    }

    public static void main(String[] args) throws IOException {
        RunConfig run = parse(args);
        SparkConf conf = DistributedTraining.defaults(new SparkConf().setAppName("dit-train"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            DistributedTraining.run(jsc, run);
        }
    }

    /** {@code --config FILE} or {@code --config-json JSON} (what dit train --master sends), then overrides. */
    static RunConfig parse(String[] args) throws IOException {
        Path config = null;
        String json = null;
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new ConfigException("argument " + args[i] + " needs a value; " + USAGE);
            }
            switch (args[i]) {
                case "--config" -> config = Path.of(args[++i]);
                case "--config-json" -> json = args[++i];
                case "--set" -> overrides.add(args[++i]);
                default -> throw new ConfigException("unknown argument '" + args[i] + "'; " + USAGE);
            }
        }
        if (json != null) {
            return RunConfig.bind((ObjectNode) new ObjectMapper().readTree(json), overrides, "--config-json");
        }
        if (config == null) {
            throw new ConfigException("--config: give the run's YAML file; " + USAGE);
        }
        return RunConfig.load(config, overrides);
    }
}
