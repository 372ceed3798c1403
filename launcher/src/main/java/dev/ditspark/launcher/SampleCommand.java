package dev.ditspark.launcher;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.model.Functional;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleGenerator;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dit sample}: images from a run's checkpoint (EMA weights) or from reference-named weights. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        header = "Sample images from a run's EMA weights or from reference weights.",
        description = {"Sample images from a checkpoint (its EMA weights) or from reference-named safetensors weights.",
            "Writes OUT/grid.png (one row per class) and OUT/samples.npz (arr_0: N x H x W x 3 uint8; labels: N int64).",
            "Example: dit sample --checkpoint runs/demo/checkpoints --per-class 8 --out runs/demo/samples"})
public final class SampleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    WeightsSource source;

    @Option(names = "--model", description = "With --weights: DiT-S/2 ... DiT-XL/8.")
    String model;

    @Option(names = "--image-size", defaultValue = "256", description = "With --weights: image size (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "With --weights (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--per-class", defaultValue = "8", description = "Samples per class, classes 0..--classes-1 (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--grid-per-class", description = "Columns of the grid: the first N samples of each class "
            + "(default: all of --per-class); the .npz holds all samples.")
    Integer gridPerClass;

    @Option(names = "--classes", description = "How many classes to sample (default: all, at most 10 for a grid).")
    Integer classes;

    @Option(names = "--labels", split = ",", description = "Explicit labels instead of --per-class, e.g. 207,360,387.")
    List<Long> labels;

    @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--steps", description = "Respaced sampling steps, e.g. 250 or ddim50 (default: the run's sample.steps).")
    String steps;

    @Option(names = "--sampler", description = "ddpm or ddim (default: the run's sample.sampler).")
    String sampler;

    @Option(names = "--cfg-scale", description = "Classifier-free guidance scale, 1 = none (default: the run's sample.cfg_scale).")
    Double cfgScale;

    @Option(names = "--guide-all-channels", description = "Guide all latent channels, not the reference's first 3.")
    boolean guideAll;

    @Option(names = "--batch", defaultValue = "64", description = "Samples per sampling chunk (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", defaultValue = "samples", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--vae", paramLabel = "FILE", description = "Latent models: the KL VAE (.safetensors) that decodes the "
            + "samples (latent / scaling factor → pixels), the one dit prepare encoded with.")
    Path vae;

    @Option(names = "--gpu", description = "Sample on this CUDA device.")
    Integer gpu;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        try (NDManager manager = TorchEngine.newManager(device)) {
            Loaded loaded = source.fromCheckpoint() ? fromCheckpoint(manager) : fromWeights(manager);
            SampleSpec s = new SampleSpec(steps != null ? steps : loaded.defaults.steps(),
                    sampler != null ? sampler : loaded.defaults.sampler(),
                    cfgScale != null ? cfgScale : loaded.defaults.cfgScale(),
                    guideAll || loaded.defaults.guideAllChannels(), loaded.defaults.eta());
            DiTConfig cfg = loaded.model.config();
            long[] y = labels != null ? labels.stream().mapToLong(Long::longValue).toArray()
                    : SampleGenerator.perClassLabels(classes != null ? classes : Math.min(10, cfg.numClasses()), perClass);
            for (long label : y) {
                if (label < 0 || label >= cfg.numClasses()) {
                    throw new IllegalArgumentException("--labels: " + label + " is not a class of this model (0.."
                            + (cfg.numClasses() - 1) + ")");
                }
            }
            if (vae == null && cfg.inChannels() != 1 && cfg.inChannels() != 3) {
                throw new IllegalArgumentException("this model samples " + cfg.inChannels()
                        + "-channel latents: give --vae FILE (the KL VAE dit prepare encoded with) to decode them");
            }
            long t0 = System.nanoTime();
            float[] x;
            try (Progress bar = Progress.start("sample", 0, 100)) {
                x = new SampleGenerator(loaded.model, s).generate(manager, y, seed, batch,
                        (done, total, t) -> bar.stepTo(100L * done / Math.max(1, total), null));
            }
            SampleImages images = vae == null
                    ? SampleImages.fromPixels(x, y.length, cfg.inChannels(), cfg.inputSize(), cfg.inputSize())
                    : decode(x, y.length, cfg, manager);
            if (labels == null && gridPerClass != null && gridPerClass < perClass) {
                int rows = y.length / perClass;
                int[] first = new int[rows * gridPerClass];
                for (int i = 0; i < first.length; i++) {
                    first[i] = (i / gridPerClass) * perClass + i % gridPerClass;
                }
                images.subset(first).writeGrid(out.resolve("grid.png"), gridPerClass);
            } else {
                images.writeGrid(out.resolve("grid.png"), labels != null ? Math.min(y.length, 10) : perClass);
            }
            images.withLabels(y).writeNpz(out.resolve("samples.npz"));
            pw.printf(Locale.ROOT, "%d samples (%s, %s steps, cfg %.2f) in %.1f s: %s, %s%n", y.length, s.sampler(), s.steps(),
                    s.cfgScale(), (System.nanoTime() - t0) / 1e9, out.resolve("grid.png"), out.resolve("samples.npz"));
            pw.flush();
            return 0;
        }
    }

    private record Loaded(DiT model, SampleSpec defaults) { }

    /** Latents → pixels through the VAE decoder (DIT_SPEC §3: decoding divides by the scaling factor), in chunks. */
    private SampleImages decode(float[] latents, int n, DiTConfig cfg, NDManager manager) throws IOException {
        AutoencoderKL ae = AutoencoderKL.load(vae, manager);
        if (ae.config().latentChannels() != cfg.inChannels()) {
            throw new IllegalArgumentException("--vae " + vae + " has " + ae.config().latentChannels()
                    + " latent channels, the model samples " + cfg.inChannels());
        }
        int s = cfg.inputSize();
        int size = s * ae.config().downsampling();
        int per = cfg.inChannels() * s * s;
        float[] pixels = new float[n * 3 * size * size];
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            try (NDManager step = manager.newSubManager()) {
                NDArray z = step.create(Arrays.copyOfRange(latents, start * per, (start + b) * per),
                        new Shape(b, cfg.inChannels(), s, s));
                NDArray img = ae.decode(z.div(Functional.scalar(z, ae.config().scalingFactor())));
                System.arraycopy(img.toFloatArray(), 0, pixels, start * 3 * size * size, b * 3 * size * size);
            }
        }
        return SampleImages.fromPixels(pixels, n, 3, size, size);
    }

    private Loaded fromCheckpoint(NDManager manager) throws IOException {
        WeightsSource.RunCheckpoint c = source.checkpoint();
        DiT dit = new DiT(c.config().model().toDiTConfig());
        try (SafetensorsFile f = c.open()) {
            StateDict.load(dit, f, manager);
        }
        return new Loaded(dit, c.config().sample());
    }

    private Loaded fromWeights(NDManager manager) throws IOException {
        if (model == null) {
            throw new IllegalArgumentException("--weights needs --model (e.g. DiT-XL/2) and --image-size");
        }
        DiT dit = new DiT(DiTConfig.named(model, imageSize, 4, numClasses));
        try (SafetensorsFile f = SafetensorsFile.open(source.weights())) {
            StateDict.load(dit, f, manager);
        }
        return new Loaded(dit, SampleSpec.defaults());
    }

}
