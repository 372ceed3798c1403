package dev.ditspark.core.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Per-step wall-clock and process CPU times of a benchmark (warm-up steps already dropped), in seconds.
 * CPU time is the whole process's (every libtorch/OpenMP thread, plus the JVM's own), the quantity that stays
 * meaningful on a shared, noisy machine; wall time is what a user waits.
 *
 * <p>The JVM compiles hot code on its own threads (C1 and C2) for the first seconds of a run, a start-up cost
 * a long training run pays once and PyTorch does not have; {@code jitSeconds} is that part of the timed window's
 * CPU time, so a short benchmark can say how much of its CPU figure is start-up (NaN where it cannot be read).
 *
 * <p>{@link #line} is the one parseable line the side-by-side driver (tools/bench/run.py) reads; the PyTorch
 * reference (tools/bench/torch_bench.py) prints the same format.
 */
public record StepTimings(double[] wallSeconds, double[] cpuSeconds, double jitSeconds) {

    /** Linux's USER_HZ: the unit of a thread's utime and stime in /proc/PID/task/TID/stat. */
    private static final double CLOCK_TICKS_PER_SECOND = 100.0;

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

    /**
     * CPU seconds used so far by this JVM's JIT compiler threads (their names start with "C1 Compiler" or "C2
     * Compiler"), from Linux's /proc/self/task; NaN where that cannot be read (another OS). Resolution 10 ms.
     * Only threads alive now count: a JVM with {@code -XX:+UseDynamicNumberOfCompilerThreads} (JDK 17's default)
     * may stop surplus compiler threads on a many-core machine and their time leaves with them, so {@code bin/dit
     * bench} starts its JVM with that option off; elsewhere the difference of two readings is a lower bound.
     */
    public static double jitCpuSeconds() {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim();
                    if (!name.startsWith("C1 Compiler") && !name.startsWith("C2 Compiler")) {
                        continue;
                    }
                    // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (proc(5)).
                    String stat = Files.readString(task.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (IOException | RuntimeException threadEnded) {
                    // a thread that ended between the listing and the read: its time is not counted
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return ticks / CLOCK_TICKS_PER_SECOND;
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

    /** Mean CPU seconds per timed step of the JIT compiler threads (part of {@link #meanCpu}); NaN if unknown. */
    public double meanJit() {
        return jitSeconds / cpuSeconds.length;
    }

    /**
     * {@code result case=step model=demo.yaml batch=8 threads=1 steps=10 wall_s=0.123456 cpu_s=0.234567
     * jit_s=0.004000}: the median wall time, the mean process CPU time per step and the JIT compilers' part of
     * it (omitted when unknown). {@code labels} are extra key=value pairs in order (no spaces in values).
     */
    public String line(String benchCase, String... labels) {
        StringBuilder b = new StringBuilder("result case=").append(benchCase);
        for (String l : labels) {
            b.append(' ').append(l);
        }
        b.append(String.format(Locale.ROOT, " steps=%d wall_s=%.6f cpu_s=%.6f", steps(), medianWall(), meanCpu()));
        if (Double.isFinite(jitSeconds)) {
            b.append(String.format(Locale.ROOT, " jit_s=%.6f", meanJit()));
        }
        return b.toString();
    }

    /** Records one step per call: the wall and CPU time since the previous mark. */
    static final class Clock {
        private final int skip;
        private final double[] wall;
        private final double[] cpu;
        private int seen;
        private long lastNanos;
        private double lastCpu;
        private double jitAtWindowStart = Double.NaN;
        private double jitAtWindowEnd = Double.NaN;

        /** Drops the first {@code skip} intervals (warm-up), keeps the next {@code keep}. */
        Clock(int skip, int keep) {
            this.skip = skip;
            this.wall = new double[keep];
            this.cpu = new double[keep];
            start();
        }

        void start() {
            if (skip == 0) {
                jitAtWindowStart = jitCpuSeconds();
            }
            lastNanos = System.nanoTime();
            lastCpu = processCpuSeconds();
        }

        void mark() {
            if (seen == skip - 1) { // read before this mark's clocks: the reading belongs to the last warm-up step
                jitAtWindowStart = jitCpuSeconds();
            }
            long now = System.nanoTime();
            double c = processCpuSeconds();
            int i = seen - skip;
            if (i >= 0 && i < wall.length) {
                wall[i] = (now - lastNanos) / 1e9;
                cpu[i] = c - lastCpu;
            }
            if (seen == skip + wall.length - 1) {
                jitAtWindowEnd = jitCpuSeconds();
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
            // A window cut short (fewer steps ran than kept) has no end reading: its JIT time is unknown, as it is
            // when a compiler thread that ended took more time with it than the others added (negative).
            double jit = jitAtWindowEnd - jitAtWindowStart;
            return new StepTimings(Arrays.copyOf(wall, n), Arrays.copyOf(cpu, n), jit >= 0 ? jit : Double.NaN);
        }
    }
}
