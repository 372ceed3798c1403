package dev.ditspark.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.sample.SamplePlan;
import java.io.IOException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The spark-submit entry point of {@code dit sample --master}: {@code SampleJob --plan-json JSON --workers N}. The
 * launcher checked the request and sends the {@link SamplePlan} as JSON (its labels as a rule, so 50,000 samples
 * fit a command line); weights and VAE given as local files travel with spark-submit --files.
 */
public final class SampleJob {
    private static final String USAGE = "usage: SampleJob --plan-json JSON --workers N";

    private SampleJob() {
    }

    public static void main(String[] args) throws IOException {
        String json = null;
        int workers = 1;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new ConfigException("argument " + args[i] + " needs a value; " + USAGE);
            }
            switch (args[i]) {
                case "--plan-json" -> json = args[++i];
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                default -> throw new ConfigException("unknown argument '" + args[i] + "'; " + USAGE);
            }
        }
        if (json == null) {
            throw new ConfigException("--plan-json: missing; " + USAGE);
        }
        SamplePlan plan = fromJson(json);
        SparkConf conf = new SparkConf().setAppName("dit-sample");
        long t0 = System.nanoTime();
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            DistributedSampling.Result r = DistributedSampling.run(jsc, plan, workers, line -> {
                System.out.println(line);
                System.out.flush();
            });
            System.out.println(DistributedSampling.summary(plan, r, (System.nanoTime() - t0) / 1e9));
        }
    }

    /** The plan as the launcher sends it. */
    public static String toJson(SamplePlan plan) throws IOException {
        return new ObjectMapper().writeValueAsString(plan);
    }

    static SamplePlan fromJson(String json) throws IOException {
        return new ObjectMapper().readValue(json, SamplePlan.class);
    }
}
