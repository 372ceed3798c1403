package dev.ditspark.core.engine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How many cores other processes keep busy, from two reads of /proc/stat {@value #WINDOW_MS} ms apart, minus
 * this process's own CPU time over the window. Used to size libtorch's OpenMP team ({@link
 * TorchEngine#defaultThreads}). Where /proc/stat is unreadable (not Linux) every core counts as free.
 */
public final class CpuLoad {
    static final long WINDOW_MS = 100;

    private CpuLoad() {
    }

    /**
     * {@code available} less the cores busy with other work over the last {@value #WINDOW_MS} ms, rounded to the
     * nearest core (half a busy core counts as free), at least 1.
     */
    public static int freeCores(int available) {
        try {
            long[] a = read();
            double ownA = ownCpuSeconds();
            long t0 = System.nanoTime();
            Thread.sleep(WINDOW_MS);
            long[] b = read();
            double ownB = ownCpuSeconds();
            double wall = (System.nanoTime() - t0) / 1e9;
            double busyOthers = busyCores(a, b) - (ownB - ownA) / wall;
            return free(available, (int) a[2], busyOthers);
        } catch (IOException | RuntimeException e) {
            return Math.max(1, available);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Math.max(1, available);
        }
    }

    /** The rule, apart from measuring: min(available, machine cores − busy) rounded half up, at least 1. */
    static int free(int available, int machineCores, double busyOthers) {
        double idle = machineCores - Math.max(0, busyOthers);
        return Math.max(1, Math.min(available, (int) Math.floor(idle + 0.5)));
    }

    /** Busy cores between two reads: Δ(non-idle jiffies) / Δ(all jiffies) × cores. */
    static double busyCores(long[] a, long[] b) {
        long total = b[0] - a[0];
        long idle = b[1] - a[1];
        return total <= 0 ? 0 : (double) (total - idle) / total * a[2];
    }

    /** {total jiffies, idle + iowait jiffies, cpu count} from /proc/stat. */
    static long[] read() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/stat"));
        long total = 0;
        long idle = 0;
        long cpus = 0;
        for (String line : lines) {
            if (line.startsWith("cpu ")) {
                String[] f = line.trim().split("\\s+");
                for (int i = 1; i < Math.min(f.length, 9); i++) { // user..steal; guest is already in user
                    total += Long.parseLong(f[i]);
                }
                idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            } else if (line.startsWith("cpu")) {
                cpus++;
            }
        }
        if (cpus == 0) {
            throw new IOException("/proc/stat: no per-cpu lines");
        }
        return new long[] {total, idle, cpus};
    }

    private static double ownCpuSeconds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime() / 1e9;
        }
        return 0;
    }
}
