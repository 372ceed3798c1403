package dev.ditspark.core.engine;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * TensorFloat-32 for CUDA float32 matmuls and convolutions, the switch the reference training script turns on
 * ({@code allow_tf32 = True}); nothing changes on the CPU. DJL has no call for it, so libtorch's global context is set
 * through JNA and read back (docs/gpu.md, "TF32 matmuls"). The flag is process-wide;
 * {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1} in the environment forces TF32 on, which {@link #apply} reports.
 */
public final class MatmulPrecision {
    private static final Logger LOG = LogManager.getLogger(MatmulPrecision.class);
    // Itanium C++ ABI names (libtorch is built with GCC): at::globalContext(), at::Context members.
    private static final String GLOBAL_CONTEXT = "_ZN2at13globalContextEv";
    private static final String SET_CUBLAS = "_ZN2at7Context18setAllowTF32CuBLASEb";
    private static final String GET_CUBLAS = "_ZNK2at7Context15allowTF32CuBLASEv";
    private static final String SET_CUDNN = "_ZN2at7Context17setAllowTF32CuDNNEb";
    private static final String GET_CUDNN = "_ZNK2at7Context14allowTF32CuDNNEv";
    private static final String LIBRARY = "libtorch_cpu.so";

    private MatmulPrecision() {
    }

    /** The {@code train.precision} values. */
    public static final String FP32 = "fp32";
    public static final String TF32 = "tf32";

    /**
     * Sets {@code precision} ({@code fp32} or {@code tf32}) for this process's CUDA matmuls and convolutions.
     *
     * @throws IllegalArgumentException for another value (naming {@code train.precision})
     * @throws IllegalStateException when libtorch's context cannot be reached (the message says why)
     */
    public static void apply(String precision) {
        boolean tf32;
        if (TF32.equals(precision)) {
            tf32 = true;
        } else if (FP32.equals(precision)) {
            tf32 = false;
        } else {
            throw new IllegalArgumentException("train.precision: fp32 or tf32, got " + precision);
        }
        if (!tf32) {
            try {
                setTf32(false);
            } catch (IllegalStateException e) {
                // fp32 is libtorch's default: where its context cannot be reached (no /proc, another libtorch)
                // nothing needs changing, and CPU training must not fail for it.
                LOG.debug("train.precision fp32: libtorch's default, not set: {}", e.getMessage());
                return;
            }
        } else {
            setTf32(true);
        }
        if (!tf32 && tf32Matmul()) {
            LOG.warn("train.precision fp32: TORCH_ALLOW_TF32_CUBLAS_OVERRIDE is set in the environment, so libtorch"
                    + " runs float32 matmuls in TF32 anyway");
        }
    }

    /** Allows (or forbids) TF32 in cuBLAS matmuls and cuDNN convolutions. */
    public static synchronized void setTf32(boolean allow) {
        Native n = Native.get();
        n.call(SET_CUBLAS, allow);
        n.call(SET_CUDNN, allow);
    }

    /** libtorch's {@code allowTF32CuBLAS()}: whether float32 matmuls may use TF32 now. */
    public static synchronized boolean tf32Matmul() {
        return Native.get().flag(GET_CUBLAS);
    }

    /** libtorch's {@code allowTF32CuDNN()}: whether float32 convolutions may use TF32 now. */
    public static synchronized boolean tf32Convolution() {
        return Native.get().flag(GET_CUDNN);
    }

    /** The libtorch_cpu library of this process and its global context, found once. */
    private record Native(NativeLibrary library, Pointer context) {
        private static Native instance;

        static synchronized Native get() {
            if (instance == null) {
                TorchEngine.engine(); // loads libtorch
                Path lib = loadedLibrary();
                try {
                    NativeLibrary library = NativeLibrary.getInstance(lib.toString());
                    Pointer context = library.getFunction(GLOBAL_CONTEXT).invokePointer(new Object[0]);
                    instance = new Native(library, context);
                } catch (UnsatisfiedLinkError e) {
                    throw new IllegalStateException("train.precision: cannot reach libtorch's global context in " + lib
                            + ": " + e.getMessage(), e);
                }
            }
            return instance;
        }

        void call(String symbol, boolean value) {
            function(symbol).invokeVoid(new Object[] {context, value ? 1 : 0});
        }

        boolean flag(String symbol) {
            // A C++ bool comes back in the low byte of the return register only.
            return (function(symbol).invokeInt(new Object[] {context}) & 0xff) != 0;
        }

        private Function function(String symbol) {
            try {
                return library.getFunction(symbol);
            } catch (UnsatisfiedLinkError e) {
                throw new IllegalStateException("train.precision: libtorch at " + library.getFile()
                        + " has no " + symbol + " (another libtorch version than 2.7.x?)", e);
            }
        }

        /** The path of libtorch_cpu.so as mapped into this process (DJL's cache or PYTORCH_LIBRARY_PATH). */
        private static Path loadedLibrary() {
            List<String> maps;
            try {
                maps = Files.readAllLines(Path.of("/proc/self/maps"));
            } catch (IOException e) {
                throw new IllegalStateException("train.precision: cannot read /proc/self/maps to find " + LIBRARY
                        + ": " + e.getMessage(), e);
            }
            for (String line : maps) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.endsWith("/" + LIBRARY)) {
                    return Path.of(line.substring(slash));
                }
            }
            throw new IllegalStateException("train.precision: " + LIBRARY + " is not loaded in this process");
        }
    }
}
