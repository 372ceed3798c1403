package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * PyTorch's fused kernels that DJL does not expose (tanh-GELU, scaled-dot-product attention, the AdamW and EMA
 * updates), run from a small TorchScript module shipped as the resource
 * {@code fused_ops.pt} (written by {@code tools/torchscript/make_fused_ops.py}; see its docstring for the torch
 * version). Each method is one PyTorch op, so forward and backward are PyTorch's own kernels: DJL runs a module
 * method with autograd recorded when the thread's grad mode is on, and without a graph under {@link NoGrad}.
 * The module holds no tensors, so every method runs on the device its inputs are on.
 *
 * <p>When the module cannot be loaded (a libtorch too old for it, a damaged jar) or is switched off with the
 * system property {@code ditspark.fused=false}, {@link #available()} is false, the log says why once, and the
 * callers ({@code dev.ditspark.core.nn.Functional}) run their composed versions. Results attach to the
 * first input's manager, as every other op's.
 */
public final class FusedOps {
    private static final Logger LOG = LogManager.getLogger(FusedOps.class);
    static final String RESOURCE = "fused_ops.pt";

    private static final Object LOCK = new Object();
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("ditspark.fused", "true"));
    private static volatile Loaded loaded;
    private static volatile boolean failed;

    private FusedOps() {
    }

    /** The loaded module and one marker array per method (DJL picks a method by a marker's name). */
    record Loaded(PtSymbolBlock block, NDArray geluTanh, NDArray attention) {
    }

    /**
     * True when the fused module is loaded and switched on. The first call loads it; a failure is logged once
     * (with the reason) and leaves the composed path in use for the rest of the process.
     */
    public static boolean available() {
        return enabled && load() != null;
    }

    /**
     * Switches the fused path on or off for the whole process (benchmarks and parity tests compare both; the
     * default is on unless {@code -Dditspark.fused=false}).
     */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * GELU with the tanh approximation, {@code gelu(x, approximate='tanh')}: any shape and float dtype, same
     * shape out. Throws IllegalStateException when {@link #available()} is false.
     */
    public static NDArray geluTanh(NDArray x) {
        Loaded l = require();
        return run(l.block(), l.geluTanh(), x);
    }

    /**
     * {@code scaled_dot_product_attention(q, k, v)}: softmax(q·kᵀ/√d)·v over (N, heads, T, d) queries and
     * (N, heads, S, d) keys and values, no mask, no dropout → (N, heads, T, d). Throws IllegalStateException
     * when {@link #available()} is false.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v) {
        Loaded l = require();
        return run(l.block(), l.attention(), q, k, v);
    }

    /**
     * One AdamW step for every parameter in place: {@code torch._fused_adamw_}, i.e. torch.optim.AdamW(fused=True)
     * with amsgrad and maximize off (decoupled weight decay θ ← θ(1 − lr·wd) first, bias-corrected moments). All
     * lists are parallel, one tensor per parameter, float32, on one device; {@code step} is the 0-d float32 step
     * count t after this step (1 on the first), on that device. Run it under {@link NoGrad} or not: DJL runs this
     * method in inference mode. Throws IllegalStateException when {@link #available()} is false.
     */
    public static void adamw(List<NDArray> params, List<NDArray> grads,
            List<NDArray> expAvgs, List<NDArray> expAvgSqs, NDArray step,
            double lr, double beta1, double beta2, double weightDecay, double eps) {
        Loaded l = require();
        PtNDArray[] steps = new PtNDArray[params.size()];
        Arrays.fill(steps, (PtNDArray) step);
        runInPlace(l.block(), "adamw_", list(params), list(grads), list(expAvgs), list(expAvgSqs),
                IValue.listFrom(steps), IValue.from(lr), IValue.from(beta1), IValue.from(beta2),
                IValue.from(weightDecay), IValue.from(eps));
    }

    /**
     * ema ← decay·ema + (1 − decay)·param in place for every pair, as the DiT reference's update_ema
     * ({@code mul_(decay)} then {@code add_(param, alpha=1 − decay)}), as two foreach ops. Throws
     * IllegalStateException when {@link #available()} is false.
     */
    public static void ema(List<NDArray> ema, List<NDArray> params, double decay) {
        Loaded l = require();
        runInPlace(l.block(), "ema_", list(ema), list(params), IValue.from(decay));
    }

    private static IValue list(List<NDArray> arrays) {
        PtNDArray[] a = new PtNDArray[arrays.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (PtNDArray) arrays.get(i);
        }
        return IValue.listFrom(a);
    }

    /** Runs an in-place method (autograd off, as DJL's runMethod does) and frees every IValue. */
    private static void runInPlace(PtSymbolBlock block, String method, IValue... inputs) {
        try (IValue ignored = IValueUtils.runMethod(block, method, inputs)) {
            // the int result only says the method ran
        } finally {
            for (IValue v : inputs) {
                v.close();
            }
        }
    }

    private static Loaded require() {
        Loaded l = enabled ? load() : null;
        if (l == null) {
            throw new IllegalStateException("the fused TorchScript ops are not available (see the log)");
        }
        return l;
    }

    private static NDArray run(PtSymbolBlock block, NDArray method, NDArray... inputs) {
        NDList list = new NDList(inputs.length + 1);
        for (NDArray a : inputs) {
            if (a.getName() != null) {
                // DJL reads input names as TorchScript container paths: pass an unnamed alias instead.
                throw new IllegalArgumentException("fused op input must be unnamed, got '" + a.getName() + "'");
            }
            list.add(a);
        }
        list.add(method);
        // isTrain=true: the thread's own grad mode decides whether autograd records (false would force it off).
        NDList out = IValueUtils.forward(block, list, true);
        return out.singletonOrThrow();
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l != null || failed) {
            return l;
        }
        synchronized (LOCK) {
            if (loaded != null || failed) {
                return loaded;
            }
            loaded = tryLoad(RESOURCE);
            failed = loaded == null;
            return loaded;
        }
    }

    /**
     * Loads and smoke-tests the module from the class-path resource {@code resource} (next to this class);
     * null, with one warning naming the reason, when that fails. Called once per process by {@link #available()}.
     */
    static Loaded tryLoad(String resource) {
        // A manager that is never closed on success: the module lives as long as the process.
        PtNDManager manager = null;
        try {
            TorchEngine.engine();
            manager = (PtNDManager) TorchEngine.newManager();
            try (InputStream in = FusedOps.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + resource + " is missing from the jar");
                }
                PtSymbolBlock block = JniUtils.loadModule(manager, in, false, false);
                Loaded candidate = new Loaded(block, marker(manager, "gelu_tanh"), marker(manager, "attention"));
                smokeTest(candidate, manager);
                LOG.debug("fused TorchScript ops loaded from {}", resource);
                return candidate;
            }
        } catch (Exception | UnsatisfiedLinkError e) {
            if (manager != null) {
                manager.close();
            }
            LOG.warn("fused TorchScript ops unavailable ({}): using the composed GELU, attention, AdamW and EMA",
                    e.toString());
            return null;
        }
    }

    /** Runs each method once on tiny tensors, so a libtorch that loads the file but lacks an op fails here. */
    private static void smokeTest(Loaded l, NDManager manager) {
        try (NDManager m = manager.newSubManager(); NoGrad ignored = NoGrad.enter()) {
            NDArray x = m.zeros(new ai.djl.ndarray.types.Shape(1, 1, 2, 4));
            run(l.block(), l.geluTanh(), x);
            run(l.block(), l.attention(), x, x, x);
            NDArray p = m.ones(new ai.djl.ndarray.types.Shape(3));
            NDArray g = m.ones(new ai.djl.ndarray.types.Shape(3));
            NDArray e = m.zeros(new ai.djl.ndarray.types.Shape(3));
            NDArray v = m.zeros(new ai.djl.ndarray.types.Shape(3));
            NDArray t = m.ones(new ai.djl.ndarray.types.Shape());
            PtSymbolBlock b = l.block();
            runInPlace(b, "adamw_", list(List.of(p)), list(List.of(g)), list(List.of(e)),
                    list(List.of(v)), IValue.listFrom((PtNDArray) t), IValue.from(0.1), IValue.from(0.9),
                    IValue.from(0.999), IValue.from(0.0), IValue.from(1e-8));
            runInPlace(b, "ema_", list(List.of(e)), list(List.of(p)), IValue.from(0.5));
            if (Math.abs(p.getFloat(0) - 0.9f) > 1e-5) { // first AdamW step moves θ by lr·sign(g)
                throw new IllegalStateException("the fused AdamW smoke test gave " + p.getFloat(0) + ", not 0.9");
            }
        }
    }

    private static NDArray marker(NDManager manager, String method) {
        NDArray m = manager.zeros(new ai.djl.ndarray.types.Shape(1));
        m.setName("module_method:" + method);
        return m;
    }
}
