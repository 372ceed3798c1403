package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.InputStream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * libtorch's symmetric eigensolver (LAPACK on CPU, cuSOLVER on CUDA) for the Fréchet distance, through a small
 * TorchScript module shipped as the resource {@code linalg_ops.pt} (written by
 * {@code tools/torchscript/make_linalg_ops.py}, whose docstring defines the method), as
 * {@link dev.ditspark.core.engine.FusedOps} does for the training kernels: DJL exposes no eigen-decomposition.
 * At 2048-d it takes about a second where Apache Commons Math takes about a minute per decomposition.
 *
 * <p>When the module cannot be loaded or fails its smoke test, {@link #available()} is false, the log says why
 * once, and {@link FeatureStatistics} uses Commons Math.
 */
public final class LinalgOps {
    private static final Logger LOG = LogManager.getLogger(LinalgOps.class);
    static final String RESOURCE = "linalg_ops.pt";
    private static final Object LOCK = new Object();
    private static volatile Loaded loaded;
    private static volatile boolean failed;

    private LinalgOps() {
    }

    private record Loaded(PtSymbolBlock block, NDArray traceSqrtProduct) {
    }

    /** True when the module is loaded (the first call loads it). */
    public static boolean available() {
        return load() != null;
    }

    /**
     * tr (s1·s2)^½ of two symmetric positive semi-definite (n, n) float64 matrices on one device; negative
     * rounding in the eigenvalues is clamped to 0. Throws IllegalStateException when {@link #available()} is false.
     */
    public static double traceSqrtProduct(NDArray s1, NDArray s2) {
        Loaded l = load();
        if (l == null) {
            throw new IllegalStateException("the TorchScript linear-algebra ops are not available (see the log)");
        }
        return run(l, s1, s2);
    }

    private static double run(Loaded l, NDArray s1, NDArray s2) {
        try (NoGrad g = NoGrad.enter()) {
            NDList out = IValueUtils.forward(l.block(), new NDList(s1, s2, l.traceSqrtProduct()), false);
            try {
                return out.singletonOrThrow().toDoubleArray()[0];
            } finally {
                out.close();
            }
        }
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l != null || failed) {
            return l;
        }
        synchronized (LOCK) {
            if (loaded == null && !failed) {
                loaded = tryLoad();
                failed = loaded == null;
            }
            return loaded;
        }
    }

    private static Loaded tryLoad() {
        PtNDManager manager = null; // lives as long as the process on success
        try {
            TorchEngine.engine();
            manager = (PtNDManager) TorchEngine.newManager();
            try (InputStream in = LinalgOps.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + RESOURCE + " is missing from the jar");
                }
                PtSymbolBlock block = JniUtils.loadModule(manager, in, false, false);
                NDArray marker = manager.zeros(new Shape(1));
                marker.setName("module_method:trace_sqrt_product");
                Loaded candidate = new Loaded(block, marker);
                try (NDManager m = manager.newSubManager()) {
                    // diag(1, 4) and diag(4, 1): (s1 s2)^½ = diag(2, 2), trace 4.
                    NDArray a = m.create(new double[] {1, 0, 0, 4}, new Shape(2, 2));
                    NDArray b = m.create(new double[] {4, 0, 0, 1}, new Shape(2, 2));
                    double t = run(candidate, a, b);
                    if (Math.abs(t - 4) > 1e-9) {
                        throw new IllegalStateException("smoke test gave " + t + ", not 4");
                    }
                }
                return candidate;
            }
        } catch (Exception | UnsatisfiedLinkError e) {
            if (manager != null) {
                manager.close();
            }
            LOG.warn("TorchScript linear-algebra ops unavailable ({}): FID eigen-decompositions use Apache Commons Math",
                    e.toString());
            return null;
        }
    }
}
