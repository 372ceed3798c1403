package dev.ditspark.launcher;

import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.TrainingListener;
import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on an interactive terminal. Without a terminal (a log file, a pipe, the demo under nohup) and a
 * writer to log to, a line such as "sample: 40% (16000/40000 sample-steps), 5m 10s elapsed, about 7m 45s left" every 10 % and
 * at least every {@link #LOG_EVERY_NANOS 30 s}; with neither, nothing (training logs its own lines).
 */
final class Progress implements AutoCloseable {
    static final long LOG_EVERY_NANOS = 30_000_000_000L;
    private final ProgressBar bar;
    private final PrintWriter log;
    private final String task;
    private final String unit;
    private final long max;
    private final long initial;
    private final long t0 = System.nanoTime();
    private long lastLog = t0;
    private long lastTenth;
    private long lastDone;

    private Progress(ProgressBar bar, PrintWriter log, String task, String unit, long initial, long max) {
        this.bar = bar;
        this.log = log;
        this.task = task;
        this.unit = unit;
        this.initial = initial;
        this.max = Math.max(1, max);
        this.lastTenth = 10 * initial / this.max;
        this.lastDone = initial;
    }

    static boolean interactive() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    static Progress start(String task, long initial, long max) {
        return start(task, null, initial, max, null);
    }

    /**
     * A bar on a terminal; otherwise periodic lines on {@code log} (none if null). {@code unit} names what
     * {@code initial}, {@code max} and {@link #stepTo} count ("sample-steps"), or null where the task name says it.
     */
    static Progress start(String task, String unit, long initial, long max, PrintWriter log) {
        if (!interactive()) {
            return new Progress(null, log, task, unit, initial, max);
        }
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).startsFrom(initial, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate();
        if (unit != null) {
            b.setUnit(" " + unit, 1);
        }
        return new Progress(b.build(), null, task, unit, initial, max);
    }

    void stepTo(long done, String extra) {
        if (bar != null) {
            bar.stepTo(done);
            if (extra != null) {
                bar.setExtraMessage(extra);
            }
        } else if (log != null && done > lastDone) {
            lastDone = done;
            long now = System.nanoTime();
            long tenth = 10 * Math.min(done, max) / max;
            if (tenth > lastTenth || now - lastLog >= LOG_EVERY_NANOS) {
                lastTenth = tenth;
                lastLog = now;
                double elapsed = (now - t0) / 1e9;
                double rate = (done - initial) / Math.max(elapsed, 1e-9);
                String left = rate > 0 && done < max ? ", about " + duration((max - done) / rate) + " left" : "";
                log.println(String.format(Locale.ROOT, "%s: %d%% (%d/%d%s), %s elapsed%s%s", task,
                        100 * Math.min(done, max) / max, done, max, unit != null ? " " + unit : "", duration(elapsed), left, extra != null ? "," + extra : ""));
                log.flush();
            }
        }
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh %02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60) : s + "s";
    }

    /** A training listener that moves this bar and shows the loss and throughput. */
    TrainingListener listener() {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                stepTo(m.step(), String.format(Locale.ROOT, " loss %.4f %.1f img/s", m.loss(), m.imagesPerSecond()));
            }
        };
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
