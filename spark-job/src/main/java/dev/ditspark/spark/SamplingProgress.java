package dev.ditspark.spark;

import dev.ditspark.core.sample.SampleChunks;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The driver's view of a distributed {@code dit sample}: every few seconds it counts the finished chunk files
 * (complete or absent, so the count is exact, whichever task or attempt wrote them) and, when it changed, says
 * "sample: 40% (25600/64000 samples), 21.3 samples/s, about 30m 02s left". The rate counts only the samples
 * of this run (not those resumed from an earlier one).
 */
final class SamplingProgress implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(SamplingProgress.class);
    private final SampleChunks chunks;
    private final int total;
    private final int initial;
    private final Consumer<String> out;
    private final long t0 = System.nanoTime();
    private final Thread thread;
    private volatile boolean stopped;
    private int last;

    SamplingProgress(SampleChunks chunks, int total, int initial, long everyMillis, Consumer<String> out) {
        this.chunks = chunks;
        this.total = total;
        this.initial = initial;
        this.last = initial;
        this.out = out;
        this.thread = new Thread(() -> {
            while (!stopped) {
                try {
                    Thread.sleep(everyMillis);
                } catch (InterruptedException e) {
                    return;
                }
                poll();
            }
        }, "dit-sample-progress");
        thread.setDaemon(true);
        thread.start();
    }

    /** Counts the finished samples and reports a change. */
    synchronized void poll() {
        int done;
        try {
            done = chunks.finished().stream().mapToInt(c -> c[1] - c[0]).sum();
        } catch (java.io.IOException | RuntimeException e) {
            LOG.debug("cannot list {}: {}", chunks.location(), e.toString());
            return; // a store hiccup: the next poll tries again
        }
        if (done != last) {
            last = done;
            out.accept(line(done, (System.nanoTime() - t0) / 1e9));
        }
    }

    /** The progress line for {@code done} of the samples after {@code seconds}. */
    String line(int done, double seconds) {
        double rate = (done - initial) / Math.max(seconds, 1e-9);
        String left = rate > 0 && done < total ? ", about " + duration((total - done) / rate) + " left" : "";
        return String.format(Locale.ROOT, "sample: %d%% (%d/%d samples), %.2f samples/s%s", 100L * done / total, done,
                total, rate, left);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh %02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60) : s + "s";
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
