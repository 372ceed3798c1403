package dev.ditspark.core.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.collective.AllreduceDtype;
import dev.ditspark.core.collective.NcclCollective;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.diffusion.GaussianDiffusion;
import dev.ditspark.core.diffusion.LossTerms;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.MatmulPrecision;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.train.AdamW;
import dev.ditspark.core.train.AdamWConfig;
import dev.ditspark.core.train.Ema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The GPU check behind {@code tools/gpu-check.sh}: on one CUDA GPU, in a few minutes, device placement, NCCL at
 * world size 1 (fp32, fp16 and bf16 allreduce), DiT-XL/2 training steps at batch 32 with TF32 on and off
 * (images/s, MFU, GPU memory) and a guided DDPM sampling step; prints one table. Every check runs even when an
 * earlier one failed; the exit status is 0 when all passed, 1 when one failed, 3 without a usable GPU.
 *
 * <p>MFU = 6 × forward MACs × images/s / peak (training ≈ 3 forward passes, 2 FLOPs per MAC; DiT-XL/2's forward
 * is 118.6 G MACs per 256 px image, the paper's "Gflops"), against the dense tensor-core peak of the precision
 * used: TF32 for {@code train.precision: tf32}, float32 (no tensor cores) for {@code fp32}. Peaks
 * ({@link #PEAKS}, NVIDIA's data sheets, dense): H100 SXM and H200 SXM 494.7 TF32 / 989.4 BF16 / 66.9 FP32
 * TFLOPS; H100 PCIe 378 / 756 / 51; H100 NVL and H200 NVL 417 / 835 / 60; A100 156 / 312 / 19.5.
 * {@code --peak-tflops-tf32 X --peak-tflops-fp32 Y} override them.
 */
public final class GpuCheck {
    /** Device name fragment → {TF32, BF16, FP32} dense peak TFLOPS; the first match wins (NVL before SXM). */
    static final String[][] PEAKS = {
        {"H200 NVL", "417", "835", "60"},
        {"H100 NVL", "417", "835", "60"},
        {"H100 PCIe", "378", "756", "51"},
        {"H200", "494.7", "989.4", "66.9"},
        {"H100", "494.7", "989.4", "66.9"},
        {"A100", "156", "312", "19.5"},
    };

    private final List<String[]> rows = new ArrayList<>();
    private boolean failed;
    private int batch = 32;
    private int steps = 10;
    private int fp32Steps = 3;
    private String model = "DiT-XL/2";
    private double peakTf32 = Double.NaN;
    private double peakFp32 = Double.NaN;
    private String gpuName = "";

    private GpuCheck() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the checks; the exit status (0 all passed, 1 a check failed, 2 bad arguments, 3 no usable GPU). */
    static int run(String[] args) {
        GpuCheck c = new GpuCheck();
        try {
            c.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("gpu-check: " + e.getMessage());
            return 2;
        }
        return c.run();
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--batch" -> batch = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--fp32-steps" -> fp32Steps = Integer.parseInt(v);
                case "--model" -> model = v;
                case "--peak-tflops-tf32" -> peakTf32 = Double.parseDouble(v);
                case "--peak-tflops-fp32" -> peakFp32 = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (--batch, --steps, --fp32-steps, --model, --peak-tflops-tf32, --peak-tflops-fp32)");
            }
        }
    }

    private int run() {
        if (batch < 1 || steps < 1 || fp32Steps < 1) {
            System.err.println("gpu-check: --batch, --steps and --fp32-steps must be positive");
            return 2;
        }
        String noGpu = gpuUnavailable();
        if (noGpu != null) {
            System.err.println("gpu-check: no usable CUDA GPU: " + noGpu);
            System.err.println("gpu-check: libtorch must be a CUDA build (PYTORCH_LIBRARY_PATH, PYTORCH_FLAVOR=cu128;"
                    + " tools/gpu-check.sh sets them from --libtorch) and the NVIDIA driver must see a GPU (nvidia-smi)");
            return 3;
        }
        check("device placement", this::placement);
        check("NCCL, world size 1", this::nccl);
        check(model + " train step, batch " + batch + ", tf32", () -> trainSteps(true, steps));
        check(model + " train step, batch " + batch + ", fp32", () -> trainSteps(false, fp32Steps));
        check(model + " DDPM-250 sampling step, guidance scale 4, batch 8", this::samplingStep);
        print();
        return failed ? 1 : 0;
    }

    /** Null when libtorch can put a tensor on gpu(0); else why not. */
    private String gpuUnavailable() {
        try {
            // Ask libtorch itself (DJL's GPU count goes through its own cudart lookup, which may miss libtorch's).
            try (NDManager m = TorchEngine.newManager(Device.gpu(0))) {
                m.ones(new Shape(1)).toFloatArray();
            }
            gpuName = nameOf();
            return null;
        } catch (RuntimeException | LinkageError e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            int sentence = first.indexOf(". ");
            if (sentence > 0) {
                first = first.substring(0, sentence); // libtorch appends paragraphs of advice and backend lists
            }
            return "libtorch " + TorchEngine.engine().getVersion() + " cannot use cuda:0 (" + e.getClass().getSimpleName()
                    + ": " + first + ")";
        }
    }

    private static String nameOf() {
        try {
            org.bytedeco.cuda.cudart.cudaDeviceProp p = new org.bytedeco.cuda.cudart.cudaDeviceProp();
            if (org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties(p, 0) == 0) {
                return p.name().getString();
            }
        } catch (RuntimeException | LinkageError ignored) {
            // cudart not loadable through JavaCPP: the name stays unknown, MFU needs --peak-tflops-*
        }
        return "";
    }

    private interface Check {
        String run() throws Exception;
    }

    private void check(String name, Check c) {
        long t0 = System.nanoTime();
        String result;
        String status;
        try {
            result = c.run();
            status = "ok";
        } catch (Exception | Error e) {
            result = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            status = "FAILED";
            failed = true;
        }
        rows.add(new String[] {name, status, String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9),
            result});
        System.err.printf("gpu-check: %s: %s %s%n", name, status, result);
    }

    // ------------------------------------------------------------------ checks

    private String placement() {
        MatmulPrecision.apply("fp32");
        SplittableRandom rng = new SplittableRandom(1);
        float[] a = new float[256 * 256];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        try (NDManager gpu = TorchEngine.newManager(Device.gpu(0)); NDManager cpu = TorchEngine.newManager()) {
            NDArray g = gpu.create(a, new Shape(256, 256));
            NDArray prod = g.matMul(g);
            if (!prod.getDevice().equals(Device.gpu(0))) {
                throw new IllegalStateException("the product is on " + prod.getDevice());
            }
            float[] onGpu = prod.toFloatArray();
            NDArray h = cpu.create(a, new Shape(256, 256));
            float[] onCpu = h.matMul(h).toFloatArray();
            double worst = 0;
            for (int i = 0; i < onCpu.length; i++) {
                worst = Math.max(worst, Math.abs(onGpu[i] - onCpu[i]) / 16.0); // |entries| ~ √256
            }
            if (worst > 1e-4) {
                throw new IllegalStateException("gpu and cpu matmuls differ by " + worst);
            }
            return String.format(Locale.ROOT, "%s, %s; 256x256 matmul on gpu(0) = cpu to %.1e", gpuName.isEmpty()
                    ? "gpu(0)" : gpuName, TorchEngine.engine().getVersion(), worst);
        }
    }

    private String nccl() {
        String reason = NcclCollective.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        StringBuilder out = new StringBuilder();
        for (AllreduceDtype dtype : AllreduceDtype.values()) {
            try (NcclCollective c = NcclCollective.create(0, 1, NcclCollective.newUniqueId(), 0, Duration.ofSeconds(60),
                    dtype, () -> false); NDManager m = TorchEngine.newManager(Device.gpu(0))) {
                float[] values = {1f, -2.5f, 3.14159265f, 1e-3f, 65504f, 1.00390625f};
                NDArray t = m.create(values);
                c.allreduceMean(List.of(t));
                c.broadcast(List.of(t), 0);
                c.barrier();
                float[] got = t.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    float expected = dtype == AllreduceDtype.FP32 ? values[i] : dtype.decode(dtype.encode(values[i]));
                    // bf16 rounds ties away from even sometimes on the device (see Bf16OnDevice): one bf16 step
                    double tolerance = dtype == AllreduceDtype.BF16 ? Math.abs(values[i]) * 0x1p-8 : 0;
                    if (Math.abs(got[i] - expected) > tolerance) {
                        throw new IllegalStateException(dtype.configName() + " allreduce of " + values[i] + " gave "
                                + got[i] + ", expected " + expected);
                    }
                }
                out.append(out.length() == 0 ? "" : ", ").append(dtype.configName()).append(" ok");
            }
        }
        return out + " (allreduce, broadcast, barrier on cuda:0)";
    }

    private String trainSteps(boolean tf32, int n) {
        TorchEngine.emptyCudaCache(); // the memory figure is then this check's own
        MatmulPrecision.apply(tf32 ? "tf32" : "fp32");
        DiTConfig cfg = DiTConfig.named(model, 256);
        GaussianDiffusion diffusion = GaussianDiffusion.linear();
        try (NDManager m = TorchEngine.newManager(Device.gpu(0))) {
            DiT dit = new DiT(cfg);
            dit.initialize(m, new SplittableRandom(0));
            try (AdamW opt = new AdamW(dit, AdamWConfig.paperDefaults()); Ema ema = new Ema(dit)) {
                SplittableRandom rng = new SplittableRandom(1);
                double[] seconds = new double[n];
                float loss = Float.NaN;
                for (int i = -2; i < n; i++) { // two warm-up steps (cuBLAS heuristics, allocator)
                    long t0 = System.nanoTime();
                    loss = step(dit, opt, ema, diffusion, m, cfg, rng);
                    if (i >= 0) {
                        seconds[i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                Arrays.sort(seconds);
                double median = seconds[n / 2];
                double imagesPerSecond = batch / median;
                double flops = 6.0 * dit.forwardMacs() * imagesPerSecond;
                double peak = peak(tf32);
                String mfu = Double.isNaN(peak) ? "MFU n/a (GPU not in the peak table: --peak-tflops-" + (tf32 ? "tf32" : "fp32")
                        + ")" : String.format(Locale.ROOT, "MFU %.1f%% of %.1f TFLOPS %s", 100 * flops / 1e12 / peak, peak,
                        tf32 ? "TF32" : "FP32");
                return String.format(Locale.ROOT, "%.3f s/step (median of %d), %.1f images/s, %.1f TFLOPS, %s, GPU memory"
                        + " %s, loss %.4f", median, n, imagesPerSecond, flops / 1e12, mfu, gpuMemory(), loss);
            }
        } finally {
            MatmulPrecision.apply("tf32");
        }
    }

    /** One optimizer step as Trainer does it (hybrid loss, backward, gradient check, AdamW, EMA); returns the loss. */
    private float step(DiT dit, AdamW opt, Ema ema, GaussianDiffusion diffusion, NDManager m, DiTConfig cfg,
            SplittableRandom rng) {
        opt.zeroGradients();
        try (NDManager s = m.newSubManager()) {
            Shape shape = new Shape(batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
            NDArray x0 = s.randomNormal(shape);
            NDArray noise = s.randomNormal(shape);
            long[] t = new long[batch];
            long[] y = new long[batch];
            for (int i = 0; i < batch; i++) {
                t[i] = rng.nextInt(diffusion.numTimesteps());
                y[i] = rng.nextInt(cfg.numClasses());
            }
            NDArray labels = s.create(y);
            NDArray loss;
            try (GradientTape tape = GradientTape.record()) {
                LossTerms terms = diffusion.trainingLosses(dit::forward, x0, t, labels, noise);
                loss = terms.loss().mean();
                tape.backward(loss);
            }
            NDArray gradientSum = opt.gradientSum(s);
            float[] read = gradientSum.reshape(1).concat(loss.stopGradient().reshape(1)).toFloatArray(); // the sync
            if (!Float.isFinite(read[0]) && !opt.allGradientsFiniteExact()) {
                throw new IllegalStateException("a gradient is not finite");
            }
            opt.step();
            ema.update();
            return read[1];
        }
    }

    private String samplingStep() {
        TorchEngine.emptyCudaCache();
        MatmulPrecision.apply("tf32");
        DiTConfig cfg = DiTConfig.named(model, 256);
        GaussianDiffusion diffusion = GaussianDiffusion.linear("250");
        try (NDManager m = TorchEngine.newManager(Device.gpu(0))) {
            DiT dit = new DiT(cfg);
            dit.initialize(m, new SplittableRandom(0));
            ClassifierFreeGuidance guidance = new ClassifierFreeGuidance(dit, 4.0);
            int n = 8;
            NDArray z = m.randomNormal(new Shape(2L * n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()));
            long[] labels = guidance.doubledLabels(new long[] {0, 1, 2, 3, 4, 5, 6, 7});
            NDArray y = m.create(labels);
            double[] seconds = new double[5];
            try (NoGrad off = NoGrad.enter()) {
                NDArray x = z;
                for (int i = -1; i < seconds.length; i++) {
                    long t0 = System.nanoTime();
                    int step = 249 - Math.max(i, 0);
                    long[] t = new long[2 * n];
                    Arrays.fill(t, step);
                    try (NDManager s = m.newSubManager()) {
                        x.tempAttach(s);
                        NDArray out = guidance.denoiser().apply(x, s.full(new Shape(2L * n),
                                diffusion.schedule().originalTimestep(step), DataType.INT64), y);
                        NDArray next = diffusion.ddpmStep(out, x, t, s.randomNormal(x.getShape()));
                        next.get(0, 0, 0, 0).getFloat(); // sync
                        next.attach(m);
                        x = next;
                    }
                    if (i >= 0) {
                        seconds[i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
            }
            Arrays.sort(seconds);
            return String.format(Locale.ROOT, "%.1f ms/step (median of %d; 250 steps: %.1f s for 8 images), GPU memory %s",
                    1e3 * seconds[seconds.length / 2], seconds.length, 250 * seconds[seconds.length / 2], gpuMemory());
        }
    }

    // ------------------------------------------------------------------ figures

    private double peak(boolean tf32) {
        double given = tf32 ? peakTf32 : peakFp32;
        if (!Double.isNaN(given)) {
            return given;
        }
        for (String[] p : PEAKS) {
            if (gpuName.contains(p[0])) {
                return Double.parseDouble(tf32 ? p[1] : p[3]);
            }
        }
        return Double.NaN;
    }

    /**
     * Device memory in use (cudaMemGetInfo: total − free, the CUDA context included): libtorch's caching allocator
     * keeps what it reserved, so after a check this is that check's peak (the cache is emptied before each).
     */
    private static String gpuMemory() {
        try {
            org.bytedeco.javacpp.SizeTPointer free = new org.bytedeco.javacpp.SizeTPointer(1);
            org.bytedeco.javacpp.SizeTPointer total = new org.bytedeco.javacpp.SizeTPointer(1);
            if (org.bytedeco.cuda.global.cudart.cudaMemGetInfo(free, total) == 0) {
                return String.format(Locale.ROOT, "%.1f of %.1f GiB in use", (total.get() - free.get()) / 1073741824.0,
                        total.get() / 1073741824.0);
            }
        } catch (RuntimeException | LinkageError ignored) {
            // cudart not loadable through JavaCPP: gpu-check.sh's nvidia-smi column has the figure
        }
        return "n/a (see nvidia-smi peak)";
    }

    private void print() {
        int[] width = {5, 6, 4};
        for (String[] r : rows) {
            for (int i = 0; i < 3; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        String format = "%-" + width[0] + "s | %-" + width[1] + "s | %" + width[2] + "s | %s%n";
        System.out.printf(format, "check", "status", "time", "result");
        System.out.printf(format, "-".repeat(width[0]), "-".repeat(width[1]), "-".repeat(width[2]), "------");
        for (String[] r : rows) {
            System.out.printf(format, (Object[]) r);
        }
    }
}
