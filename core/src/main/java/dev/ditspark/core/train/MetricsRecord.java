package dev.ditspark.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of a run's {@code metrics.jsonl}: what rank 0 logs every train.log_every steps. Losses, step time and
 * throughput are means over the log window (the steps since the previous line); the gradient norm is that of the
 * logged step.
 *
 * @param step optimizer steps completed
 * @param epoch the data epoch the next step draws from
 * @param imagesSeen images trained on, all workers together
 * @param loss window mean of mse + vb
 * @param mse window mean of the noise-prediction MSE
 * @param vb window mean of the variational bound term (nats per dimension)
 * @param gradNorm L2 norm of the worker-averaged gradients of the logged step (before AdamW); NaN if unknown
 * @param lr learning rate of the logged step
 * @param imagesPerSecond images per wall-clock second over the window (all workers)
 * @param stepSeconds mean wall time of one step over the window, seconds
 * @param heapUsedBytes JVM heap in use on rank 0, bytes
 * @param rssBytes resident set size of rank 0's process (VmRSS of /proc/self/status), bytes; -1 where unknown
 * @param unixTime wall-clock time of the line, seconds since the epoch
 * @param eval evaluation results at this step (name → value, e.g. "fid"); empty when none ran
 */
public record MetricsRecord(long step, long epoch, long imagesSeen, double loss, double mse, double vb, double gradNorm,
        double lr, double imagesPerSecond, double stepSeconds, long heapUsedBytes, long rssBytes, double unixTime,
        Map<String, Double> eval) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public MetricsRecord {
        eval = Map.copyOf(eval);
    }

    /** The record as one JSON line (no newline); NaN and infinities are written as null. */
    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", step);
        n.put("epoch", epoch);
        n.put("images_seen", imagesSeen);
        putNumber(n, "loss", loss);
        putNumber(n, "mse", mse);
        putNumber(n, "vb", vb);
        putNumber(n, "grad_norm", gradNorm);
        putNumber(n, "lr", lr);
        putNumber(n, "images_per_second", imagesPerSecond);
        putNumber(n, "step_seconds", stepSeconds);
        n.put("heap_used_bytes", heapUsedBytes);
        n.put("rss_bytes", rssBytes);
        putNumber(n, "time", unixTime);
        ObjectNode e = n.putObject("eval");
        new java.util.TreeMap<>(eval).forEach((k, v) -> putNumber(e, k, v));
        return n.toString();
    }

    private static void putNumber(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    /**
     * Parses one line written by {@link #toJson}; missing or null numbers read as NaN (or -1 for byte counts).
     *
     * @throws IllegalArgumentException the line is not a JSON object with a numeric "step"
     */
    public static MetricsRecord parse(String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject() || !n.path("step").canConvertToLong()) {
            throw new IllegalArgumentException("not a metrics line (no numeric \"step\")");
        }
        Map<String, Double> eval = new LinkedHashMap<>();
        n.path("eval").fields().forEachRemaining(f -> eval.put(f.getKey(), number(f.getValue())));
        return new MetricsRecord(n.get("step").asLong(), n.path("epoch").asLong(0), n.path("images_seen").asLong(0),
                number(n.get("loss")), number(n.get("mse")), number(n.get("vb")), number(n.get("grad_norm")),
                number(n.get("lr")), number(n.get("images_per_second")), number(n.get("step_seconds")),
                n.path("heap_used_bytes").asLong(-1), n.path("rss_bytes").asLong(-1), number(n.get("time")), eval);
    }

    private static double number(JsonNode v) {
        return v != null && v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
