package dev.ditspark.core.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Peak resident memory of a DiT's forward + backward ({@code dit bench memory}): each batch size runs in a fresh
 * child JVM (same class path, JVM options and environment, so the allocator and thread settings of bin/dit
 * apply), which initialises the model, runs forward + backward (loss mean(out²)) twice and reports its
 * {@code VmHWM} from /proc/self/status, the kernel's high-water mark of the process's resident set. A fresh
 * process per batch makes that the true peak for that batch; the slope between batches is the activation
 * memory per sample, since weights, gradients and the JVM's own footprint do not depend on the batch.
 * Linux only (it reads /proc). Compared with tools/bench/torch_bench.py's {@code memory} case.
 */
public final class MemoryBenchmark {
    private static final String PREFIX = "dit-bench-memory ";

    private MemoryBenchmark() {
    }

    /**
     * @param afterInitBytes the high-water mark after initialising the model (weights, JVM, libtorch)
     * @param peakBytes the high-water mark after forward + backward
     */
    public record Peak(int batch, long afterInitBytes, long peakBytes) {
    }

    /** Activation bytes per sample: the slope of peak memory between the smallest and largest batch (NaN if one). */
    public static double bytesPerSample(List<Peak> peaks) {
        Peak a = peaks.get(0);
        Peak b = peaks.get(peaks.size() - 1);
        return b.batch() == a.batch() ? Double.NaN : (double) (b.peakBytes() - a.peakBytes()) / (b.batch() - a.batch());
    }

    /** Runs one child per batch, in order. Throws IOException naming the batch if a child fails. */
    public static List<Peak> measure(DiTConfig cfg, int[] batches, int threads) throws IOException, InterruptedException {
        List<Peak> peaks = new ArrayList<>();
        for (int b : batches) {
            if (b <= 0) {
                throw new IllegalArgumentException("--batch: sizes must be positive, got " + b);
            }
            peaks.add(child(cfg, b, threads));
        }
        return peaks;
    }

    private static Peak child(DiTConfig cfg, int batch, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-D") || a.startsWith("-X") && !a.startsWith("-Xdebug") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MemoryBenchmark.class.getName());
        cmd.addAll(List.of(Integer.toString(cfg.inputSize()), Integer.toString(cfg.patchSize()),
                Integer.toString(cfg.inChannels()), Integer.toString(cfg.hiddenSize()), Integer.toString(cfg.depth()),
                Integer.toString(cfg.numHeads()), Double.toString(cfg.mlpRatio()), Double.toString(cfg.classDropoutProb()),
                Integer.toString(cfg.numClasses()), Boolean.toString(cfg.learnSigma()), cfg.conditioning().id(),
                Integer.toString(batch), Integer.toString(threads)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(PREFIX)) {
                    result = line.substring(PREFIX.length());
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 || result == null) {
            throw new IOException("bench memory: the child process for batch " + batch + " exited with " + code
                    + (code == 137 ? " (killed, probably out of memory)" : "") + " without a result");
        }
        String[] kb = result.trim().split(" ");
        return new Peak(batch, Long.parseLong(kb[0]) * 1024, Long.parseLong(kb[1]) * 1024);
    }

    /** VmHWM of this process in kB, from /proc/self/status. */
    static long highWaterMarkKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("/proc/self/status has no VmHWM line (not Linux?)");
    }

    /** The child: args as {@link #child} writes them; prints {@code dit-bench-memory <after-init kB> <peak kB>}. */
    public static void main(String[] a) throws IOException {
        DiTConfig cfg = new DiTConfig(Integer.parseInt(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]),
                Integer.parseInt(a[3]), Integer.parseInt(a[4]), Integer.parseInt(a[5]), Double.parseDouble(a[6]),
                Double.parseDouble(a[7]), Integer.parseInt(a[8]), Boolean.parseBoolean(a[9]), Conditioning.fromId(a[10]));
        int batch = Integer.parseInt(a[11]);
        TorchEngine.setThreads(Integer.parseInt(a[12]));
        long afterInit;
        try (NDManager manager = TorchEngine.newManager(Device.cpu())) {
            DiT model = new DiT(cfg);
            model.initialize(manager, new SplittableRandom(0));
            afterInit = highWaterMarkKb();
            for (int i = 0; i < 2; i++) { // the second step also holds the first step's gradients
                ForwardBackwardBenchmark.step(model, manager, batch, true);
            }
        }
        System.out.println(String.format(Locale.ROOT, "%s%d %d", PREFIX, afterInit, highWaterMarkKb()));
        System.out.flush();
        System.exit(0); // DJL's engine threads must not keep the child alive
    }
}
