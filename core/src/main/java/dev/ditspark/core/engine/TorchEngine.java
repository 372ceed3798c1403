package dev.ditspark.core.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place that starts DJL's PyTorch engine. It runs offline: libtorch comes from the
 * {@code pytorch-native-cpu} jar on the class path (or a CUDA build named by {@code PYTORCH_LIBRARY_PATH}
 * on GPU nodes), never from the network, and DJL's usage tracking is off.
 */
public final class TorchEngine {
    private TorchEngine() {
    }

    private static volatile boolean configured;

    /** Sets the offline switches before libtorch loads; a value the user set explicitly wins. */
    public static synchronized void configure() {
        if (configured) {
            return;
        }
        setIfAbsent("ai.djl.offline", "DJL_OFFLINE", "true");
        setIfAbsent("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true");
        configured = true;
    }

    private static void setIfAbsent(String property, String env, String value) {
        if (System.getProperty(property) == null && System.getenv(env) == null) {
            System.setProperty(property, value);
        }
    }

    /** The PyTorch engine, loaded offline. */
    public static Engine engine() {
        configure();
        return Engine.getEngine("PyTorch");
    }

    /** A root manager on {@code device}; close it to free everything created under it. */
    public static NDManager newManager(Device device) {
        return engine().newBaseManager(device);
    }

    /** A root manager on the CPU. */
    public static NDManager newManager() {
        return newManager(Device.cpu());
    }

    /**
     * The intra-op thread count to use when none is configured: {@code DIT_THREADS} if set, else the cores this
     * process may use (cgroup quota and CPU affinity, as the JVM counts them) less the cores other processes
     * keep busy right now ({@link CpuLoad}), at least 1. OpenMP threads wait for each other at every parallel
     * region's barrier, so one thread that shares its core with a busy process holds all of them back: fewer
     * threads on free cores are faster than more on busy ones (docs/benchmarks.md, "Thread policy").
     */
    public static int defaultThreads() {
        String env = System.getenv("DIT_THREADS");
        if (env != null && !env.isBlank()) {
            try {
                int n = Integer.parseInt(env.trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
            throw new IllegalArgumentException("DIT_THREADS: a positive thread count, got '" + env + "'");
        }
        return CpuLoad.freeCores(Runtime.getRuntime().availableProcessors());
    }

    /** Sets libtorch's intra-op thread count (the benchmark and the trainer state it). */
    public static void setThreads(int threads) {
        engine();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }
}
