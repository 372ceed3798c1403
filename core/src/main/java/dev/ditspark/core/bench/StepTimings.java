package dev.ditspark.core.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/**
 * Per-step wall-clock and process CPU times of a benchmark (warm-up steps already dropped), in seconds.
 * CPU time is the whole process's (every libtorch/OpenMP thread, plus the JVM's own), the quantity that stays
 * meaningful on a shared, noisy machine; wall time is what a user waits.
 *
 * <p>{@link #line} is the one parseable line the side-by-side driver (tools/bench/run.py) reads; the PyTorch
 * reference (tools/bench/torch_bench.py) prints the same format.
 */
public record StepTimings(double[] wallSeconds, double[] cpuSeconds) {

    public StepTimings {
        if (wallSeconds.length != cpuSeconds.length || wallSeconds.length == 0) {
            throw new IllegalArgumentException("timings: need as many wall as CPU times, at least one");
        }
    }

    /** CPU seconds used so far by this process (all threads), from the JVM's process CPU clock. */
    public static double processCpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    public int steps() {
        return wallSeconds.length;
    }

    public double medianWall() {
        return median(wallSeconds);
    }

    /**
     * Mean CPU seconds per step over the timed steps. The mean rather than the median because the JVM's process
     * CPU clock ticks in 10 ms steps on Linux, too coarse for one step of a small model; over all timed steps
     * it is exact to 10 ms.
     */
    public double meanCpu() {
        return Arrays.stream(cpuSeconds).sum() / cpuSeconds.length;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * {@code result case=step model=demo.yaml batch=8 threads=1 steps=10 wall_s=0.123456 cpu_s=0.234567}: the
     * median wall time and the mean process CPU time per step. {@code labels} are extra key=value pairs in order (no spaces in values).
     */
    public String line(String benchCase, String... labels) {
        StringBuilder b = new StringBuilder("result case=").append(benchCase);
        for (String l : labels) {
            b.append(' ').append(l);
        }
        return b.append(String.format(Locale.ROOT, " steps=%d wall_s=%.6f cpu_s=%.6f", steps(), medianWall(),
                meanCpu())).toString();
    }

    /** Records one step per call: the wall and CPU time since the previous mark. */
    static final class Clock {
        private final int skip;
        private final double[] wall;
        private final double[] cpu;
        private int seen;
        private long lastNanos;
        private double lastCpu;

        /** Drops the first {@code skip} intervals (warm-up), keeps the next {@code keep}. */
        Clock(int skip, int keep) {
            this.skip = skip;
            this.wall = new double[keep];
            this.cpu = new double[keep];
            start();
        }

        void start() {
            lastNanos = System.nanoTime();
            lastCpu = processCpuSeconds();
        }

        void mark() {
            long now = System.nanoTime();
            double c = processCpuSeconds();
            int i = seen - skip;
            if (i >= 0 && i < wall.length) {
                wall[i] = (now - lastNanos) / 1e9;
                cpu[i] = c - lastCpu;
            }
            seen++;
            lastNanos = now;
            lastCpu = c;
        }

        StepTimings timings() {
            int n = Math.max(0, Math.min(wall.length, seen - skip));
            if (n == 0) {
                throw new IllegalStateException("no timed step ran (" + seen + " steps, " + skip + " warm-up)");
            }
            return new StepTimings(Arrays.copyOf(wall, n), Arrays.copyOf(cpu, n));
        }
    }
}
