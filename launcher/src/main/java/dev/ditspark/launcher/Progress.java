package dev.ditspark.launcher;

import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.TrainingListener;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on an interactive terminal; nothing otherwise (the log lines carry progress then). */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    static boolean interactive() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    static Progress start(String task, long initial, long max) {
        if (!interactive()) {
            return new Progress(null);
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).startsFrom(initial, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build();
        return new Progress(bar);
    }

    void stepTo(long done, String extra) {
        if (bar != null) {
            bar.stepTo(done);
            if (extra != null) {
                bar.setExtraMessage(extra);
            }
        }
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
