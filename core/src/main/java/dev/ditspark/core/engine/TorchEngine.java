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
        Engine e = Engine.getEngine("PyTorch");
        checkThreadPolicy();
        return e;
    }

    private static volatile boolean policyChecked;

    /**
     * Says once when libtorch's OpenMP runtime (GNU libgomp, bundled with libtorch) was loaded without
     * {@code OMP_WAIT_POLICY}: its threads then spin at every barrier, and when another process shares a core a
     * 2-thread step ran up to 40x slower here (docs/benchmarks.md, "Allocator and thread policy"). libgomp reads
     * the variable once, when it loads, so it must be set where the JVM starts: bin/dit, spark.executorEnv, the
     * pod templates and the image do.
     */
    private static void checkThreadPolicy() {
        if (policyChecked) {
            return;
        }
        synchronized (TorchEngine.class) {
            if (!policyChecked) {
                policyChecked = true;
                if (System.getenv("OMP_WAIT_POLICY") == null) {
                    org.apache.logging.log4j.LogManager.getLogger(TorchEngine.class).info(
                            "OMP_WAIT_POLICY is not set: libtorch's OpenMP threads spin while they wait, which slows a "
                            + "step many times over when other processes share the cores; bin/dit sets PASSIVE "
                            + "(docs/benchmarks.md)");
                }
            }
        }
    }

    /** A root manager on {@code device}; close it to free everything created under it. */
    public static NDManager newManager(Device device) {
        return engine().newBaseManager(device);
    }

    /** A root manager on the CPU. */
    public static NDManager newManager() {
        return newManager(Device.cpu());
    }

    /** Sets libtorch's intra-op thread count (the benchmark and the trainer state it). */
    public static void setThreads(int threads) {
        engine();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }

    /** Returns the CUDA caching allocator's unused blocks to the driver ({@code torch.cuda.empty_cache()}). */
    public static void emptyCudaCache() {
        engine();
        ai.djl.pytorch.jni.JniUtils.emptyCudaCache();
    }
}
