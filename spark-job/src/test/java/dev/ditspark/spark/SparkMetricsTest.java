package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.train.MetricsHistory;
import dev.ditspark.core.train.MetricsRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a person watching a run on Spark sees: the job's description in the UI and the driver's {@code dit} metrics
 * source read through Spark's own PrometheusServlet on the driver UI (a real local-mode driver, 127.0.0.1).
 */
class SparkMetricsTest {

    @TempDir
    static Path dir;

    static String data;
    static JavaSparkContext spark;

    @BeforeAll
    static void start() throws Exception {
        data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        spark = new JavaSparkContext(TinyRun.localSpark("local[2]")
                .set("spark.ui.enabled", "true")
                .set("spark.ui.port", "0") // a free port
                .set("spark.metrics.conf.*.sink.prometheusServlet.class", "org.apache.spark.metrics.sink.PrometheusServlet")
                .set("spark.metrics.conf.*.sink.prometheusServlet.path", "/metrics/prometheus")
                .set("spark.executor.heartbeatInterval", "500ms"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
    }

    @Test
    void theJobIsDescribedAndPrometheusServesStepLossAndThroughput() throws Exception {
        List<String> descriptions = new CopyOnWriteArrayList<>();
        SparkListener jobs = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                descriptions.add(start.properties().getProperty("spark.job.description"));
            }
        };
        spark.sc().addSparkListener(jobs);
        String ckpt = dir.resolve("run").toUri().toString();
        RunConfig run = TinyRun.config(dir, data, ckpt, List.of("train.workers=2", "train.max_steps=40",
                "checkpoint.every=20"));
        try {
            DistributedTraining.run(spark, run);
        } finally {
            spark.sc().listenerBus().waitUntilEmpty();
            spark.sc().removeSparkListener(jobs);
        }
        assertTrue(descriptions.contains("dit train: custom DiT steps 0\u201340 on 2 workers"), descriptions.toString());

        MetricsRecord last = MetricsHistory.read(ckpt, new Configuration()).get(39);
        assertEquals(40, last.step());
        HttpResponse<String> response = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build().send(HttpRequest.newBuilder(
                URI.create(spark.sc().uiWebUrl().get() + "/metrics/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.uri() + ": " + response.body());
        String body = response.body();
        Map<String, Double> gauges = Map.of("step", gauge(body, "step"), "loss", gauge(body, "loss"),
                "images_per_second", gauge(body, "images_per_second"));
        assertEquals(40.0, gauges.get("step"), body);
        assertEquals(last.loss(), gauges.get("loss"), 1e-12);
        assertEquals(last.imagesPerSecond(), gauges.get("images_per_second"), 1e-9);
        // Values arrived while the stage ran, with executor heartbeats, not only with the tasks' ends.
        assertTrue(TrainingMetricsSource.of(spark).heartbeatUpdates > 0, "no heartbeat carried the progress");
        assertFalse(body.contains(dir.toString()), "no path in the metrics");
    }

    /** {@code metrics_<app>_driver_dit_<name>_Value{type="gauges"} v}: PrometheusServlet's line for a gauge. */
    private static double gauge(String body, String name) {
        Matcher m = Pattern.compile("metrics_\\S*_driver_dit_" + name + "_Value\\{type=\"gauges\"\\} (\\S+)").matcher(body);
        assertTrue(m.find(), "no dit " + name + " gauge in\n" + body);
        return Double.parseDouble(m.group(1));
    }
}
