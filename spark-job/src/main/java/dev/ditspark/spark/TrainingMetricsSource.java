package dev.ditspark.spark;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.metrics.MetricsSystem;
import org.apache.spark.metrics.source.Source;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Option;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The driver's Spark metrics source {@code dit}: gauges {@code step}, {@code loss} and {@code images_per_second}
 * of the run in progress (the last one's after it ends), so Spark's own sinks expose them: the PrometheusServlet
 * ({@code /metrics/prometheus} on the driver UI), JMX, CSV, Graphite... under {@code <namespace>.driver.dit.*}.
 *
 * <p>The values come from rank 0 of the training stage: at each logged step it adds its progress to a
 * {@link ProgressAccumulator}; executors send running tasks' accumulators to the driver with every heartbeat,
 * where a {@link SparkListener} reads them ({@code onExecutorMetricsUpdate}), and with the task's end
 * ({@code onTaskEnd}). So the gauges trail the log by at most one heartbeat interval, on a cluster as in local
 * mode; nothing else travels.
 */
final class TrainingMetricsSource implements Source {
    static final String NAME = "dit";

    private final MetricRegistry registry = new MetricRegistry();
    private final AtomicReference<TrainingProgress> latest = new AtomicReference<>();
    /** How many updates arrived with a heartbeat (not a task's end): tests check the live path. */
    volatile long heartbeatUpdates;

    private TrainingMetricsSource() {
        registry.register("step", (Gauge<Long>) () -> latest.get() == null ? 0L : latest.get().step());
        registry.register("loss", (Gauge<Double>) () -> latest.get() == null ? Double.NaN : latest.get().loss());
        registry.register("images_per_second",
                (Gauge<Double>) () -> latest.get() == null ? 0.0 : latest.get().imagesPerSecond());
    }

    @Override
    public String sourceName() {
        return NAME;
    }

    @Override
    public MetricRegistry metricRegistry() {
        return registry;
    }

    TrainingProgress latest() {
        return latest.get();
    }

    void update(TrainingProgress p) {
        if (p != null) {
            latest.accumulateAndGet(p, (old, now) -> old == null || now.step() >= old.step() ? now : old);
        }
    }

    /** A new run starts from its own steps (a resubmission may start lower than the last run ended). */
    void restart() {
        latest.set(null);
    }

    /** This driver's source, registered with its metrics system on first use. */
    static synchronized TrainingMetricsSource of(JavaSparkContext jsc) {
        MetricsSystem metrics = SparkEnv.get().metricsSystem();
        for (Source s : CollectionConverters.asJava(metrics.getSourcesByName(NAME))) {
            if (s instanceof TrainingMetricsSource t) {
                return t;
            }
        }
        TrainingMetricsSource s = new TrainingMetricsSource();
        metrics.registerSource(s);
        return s;
    }

    /** A listener feeding this source from {@code accumulator}'s updates, heartbeats and task ends. */
    SparkListener listener(ProgressAccumulator accumulator) {
        long id = accumulator.id();
        return new SparkListener() {
            @Override
            public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate u) {
                for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                        : CollectionConverters.asJava(u.accumUpdates())) {
                    for (AccumulableInfo info : CollectionConverters.asJava(t._4())) {
                        if (info.id() == id && take(info.update())) {
                            heartbeatUpdates++;
                        }
                    }
                }
            }

            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.taskInfo() != null) {
                    for (AccumulableInfo info : CollectionConverters.asJava(end.taskInfo().accumulables())) {
                        if (info.id() == id) {
                            take(info.update());
                        }
                    }
                }
            }
        };
    }

    private boolean take(Option<Object> update) {
        if (update.isDefined() && update.get() instanceof TrainingProgress p) {
            update(p);
            return true;
        }
        return false;
    }
}
