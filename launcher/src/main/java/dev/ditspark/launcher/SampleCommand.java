package dev.ditspark.launcher;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.model.Functional;
import dev.ditspark.core.vae.AutoencoderKL;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.sample.SampleChunks;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleGenerator;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
            "Finished chunks of --batch samples are kept in OUT/chunks as it goes; rerunning the same command resumes",
            "(sample i's noise depends only on --seed and i). A model trained with class_dropout_prob 0 needs --cfg-scale 1.",
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

    @Option(names = "--batch", defaultValue = "64", description = "Samples per sampling chunk, each kept in OUT/chunks until "
            + "the end so a rerun resumes (default: ${DEFAULT-VALUE}).")
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
        PrintWriter err = spec.commandLine().getErr();
        // Every input opened and every output made writable before the first sampling step.
        Checks.outputDirectory("--out", out);
        if (vae != null) {
            Checks.inputFile("--vae", vae);
        }
        if (!source.fromCheckpoint()) {
            Checks.inputFile("--weights", source.weights());
        }
        if (labels != null && classes != null) {
            throw new IllegalArgumentException("--labels and --classes: give one (--labels lists the classes itself)");
        }
        if (labels != null && labels.isEmpty()) {
            throw new IllegalArgumentException("--labels: give at least one class");
        }
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        try (NDManager manager = TorchEngine.newManager(device)) {
            Loaded loaded = source.fromCheckpoint() ? fromCheckpoint(manager) : fromWeights(manager);
            SampleSpec s = sampleSpec(loaded.defaults);
            DiTConfig cfg = loaded.model.config();
            long[] y = labels(cfg);
            if (s.cfgScale() != 1.0 && !cfg.hasNullClass()) {
                throw new IllegalArgumentException((cfgScale != null ? "--cfg-scale"
                        : loaded.run != null ? "the run's sample.cfg_scale" : "--cfg-scale (default)") + ": "
                        + ClassifierFreeGuidance.noNullClassMessage(s.cfgScale()));
            }
            AutoencoderKL ae = null;
            if (vae == null && cfg.inChannels() != 1 && cfg.inChannels() != 3) {
                throw new IllegalArgumentException("this model samples " + cfg.inChannels()
                        + "-channel latents: give --vae FILE (the KL VAE dit prepare encoded with) to decode them");
            }
            if (vae != null) {
                ae = AutoencoderKL.load(vae, manager);
                if (ae.config().latentChannels() != cfg.inChannels()) {
                    throw new IllegalArgumentException("--vae " + vae + " has " + ae.config().latentChannels()
                            + " latent channels, the model samples " + cfg.inChannels());
                }
                if (loaded.run != null) {
                    VaeCheck.againstTrainingData(vae, ae.config(), loaded.run.data().uri(), err);
                }
            }
            int grid = labels != null ? Math.min(y.length, 10) : Math.min(perClass, gridPerClass != null ? gridPerClass : perClass);

            long t0 = System.nanoTime();
            SampleChunks chunks = SampleChunks.open(out.resolve("chunks"), request(loaded, s, y), line -> {
                pw.println(line);
                pw.flush();
            });
            SampleGenerator generator = new SampleGenerator(loaded.model, s);
            int total = dev.ditspark.core.diffusion.GaussianDiffusion.linear(s.steps()).numTimesteps();
            // Chunks a killed earlier run finished are reused; progress (and its time estimate) counts the rest.
            List<SampleImages> parts = new ArrayList<>();
            int reused = 0;
            long resumedSamples = 0;
            for (int start = 0; start < y.length; start += batch) {
                int n = Math.min(batch, y.length - start);
                SampleImages done = chunks.read(start, n).orElse(null);
                parts.add(done);
                if (done != null) {
                    reused++;
                    resumedSamples += n;
                }
            }
            try (Progress bar = Progress.start("sample", resumedSamples * total, (long) y.length * total, pw)) {
                long finished = resumedSamples;
                for (int k = 0, start = 0; start < y.length; k++, start += batch) {
                    if (parts.get(k) != null) {
                        continue;
                    }
                    int n = Math.min(batch, y.length - start);
                    long before = finished;
                    SampleImages part;
                    try (NDManager scope = manager.newSubManager()) {
                        NDArray x = generator.sampleRange(scope, y, start, n, seed,
                                (step, steps, t) -> bar.stepTo(before * total + (long) step * n, null));
                        part = (ae == null
                                ? SampleImages.fromPixels(x.toFloatArray(), n, cfg.inChannels(), cfg.inputSize(), cfg.inputSize())
                                : decode(ae, x, n, cfg))
                                .withLabels(Arrays.copyOfRange(y, start, start + n));
                    }
                    chunks.write(start, part);
                    parts.set(k, part);
                    finished += n;
                    bar.stepTo(finished * total, null);
                }
            }
            SampleImages images = SampleImages.concat(parts);
            if (labels == null && grid < perClass) {
                int rows = y.length / perClass;
                int[] first = new int[rows * grid];
                for (int i = 0; i < first.length; i++) {
                    first[i] = (i / grid) * perClass + i % grid;
                }
                images.subset(first).writeGrid(out.resolve("grid.png"), grid);
            } else {
                images.writeGrid(out.resolve("grid.png"), grid);
            }
            images.writeNpz(out.resolve("samples.npz"));
            chunks.delete();
            pw.printf(Locale.ROOT, "%d samples (%s, %s steps, cfg %.2f) in %.1f s%s: %s, %s%n", y.length, s.sampler(), s.steps(),
                    s.cfgScale(), (System.nanoTime() - t0) / 1e9,
                    reused > 0 ? " (" + reused + " chunks resumed from an earlier run)" : "",
                    out.resolve("grid.png"), out.resolve("samples.npz"));
            pw.flush();
            return 0;
        }
    }

    /** The run's sampling settings with the options' overrides; a bad override is named by its option. */
    private SampleSpec sampleSpec(SampleSpec defaults) {
        try {
            return new SampleSpec(steps != null ? steps : defaults.steps(), sampler != null ? sampler : defaults.sampler(),
                    cfgScale != null ? cfgScale : defaults.cfgScale(), guideAll || defaults.guideAllChannels(), defaults.eta());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("sample.steps", "--steps")
                    .replace("sample.sampler", "--sampler").replace("sample.cfg_scale", "--cfg-scale"), e);
        }
    }

    /** The label of each sample: --labels, or --per-class of each of the first --classes classes. */
    private long[] labels(DiTConfig cfg) {
        if (labels != null) {
            for (long label : labels) {
                if (label < 0 || label >= cfg.numClasses()) {
                    throw new IllegalArgumentException("--labels: " + label + " is not a class of this model (0.."
                            + (cfg.numClasses() - 1) + ")");
                }
            }
            return labels.stream().mapToLong(Long::longValue).toArray();
        }
        if (classes != null && classes > cfg.numClasses()) {
            throw new IllegalArgumentException("--classes: " + classes + " classes asked, this model has "
                    + cfg.numClasses());
        }
        return SampleGenerator.perClassLabels(classes != null ? classes : Math.min(10, cfg.numClasses()), perClass);
    }

    /**
     * What the chunks of a resumable run must agree on: weights, sampling settings, seed, labels and VAE (not
     * --batch: sample i's noise depends only on the seed and i).
     */
    private String request(Loaded loaded, SampleSpec s, long[] y) throws IOException {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("weights", dev.ditspark.core.config.Secrets.redact(loaded.identity)); // a URI's credentials never reach a file
        r.put("model", loaded.model.config().toString());
        r.put("steps", s.steps());
        r.put("sampler", s.sampler());
        r.put("cfg_scale", s.cfgScale());
        r.put("guide_all_channels", s.guideAllChannels());
        r.put("eta", s.eta());
        r.put("seed", seed);
        r.put("labels", Arrays.hashCode(y) + "/" + y.length);
        r.put("vae", vae == null ? null : fileIdentity(vae));
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r);
    }

    private static String fileIdentity(Path file) throws IOException {
        return file.getFileName() + " " + Files.size(file) + " bytes, modified " + Files.getLastModifiedTime(file);
    }

    private record Loaded(DiT model, SampleSpec defaults, RunConfig run, String identity) { }

    /** Latents (n, C, h, w) → pixel samples through the VAE decoder (docs/recipe.md, "Data": decoding divides by the scaling factor). */
    private static SampleImages decode(AutoencoderKL ae, NDArray z, int n, DiTConfig cfg) {
        int size = cfg.inputSize() * ae.config().downsampling();
        NDArray img = ae.decode(z.div(Functional.scalar(z, ae.config().scalingFactor())));
        return SampleImages.fromPixels(img.toFloatArray(), n, 3, size, size);
    }

    private Loaded fromCheckpoint(NDManager manager) throws IOException {
        WeightsSource.RunCheckpoint c = source.checkpoint();
        DiT dit = new DiT(c.config().model().toDiTConfig());
        try (SafetensorsFile f = c.open()) {
            StateDict.load(dit, f, manager);
        }
        return new Loaded(dit, c.config().sample(), c.config(), c.describe() + (c.raw() ? " model" : " ema"));
    }

    private Loaded fromWeights(NDManager manager) throws IOException {
        if (model == null) {
            throw new IllegalArgumentException("--weights needs --model (e.g. DiT-XL/2) and --image-size");
        }
        DiTConfig named = ModelOptions.named(model, imageSize, 4, numClasses);
        try (SafetensorsFile f = SafetensorsFile.open(source.weights())) {
            DiT dit = new DiT(ModelOptions.matchLabelTable(named, f));
            StateDict.load(dit, f, manager);
            return new Loaded(dit, SampleSpec.defaults(), null, fileIdentity(source.weights()));
        }
    }

}
