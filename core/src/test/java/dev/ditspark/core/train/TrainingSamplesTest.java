package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.diffusion.ProgressListener;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.AdmEvaluation;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.eval.FeatureStatistics;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionScore;
import dev.ditspark.core.eval.InceptionFeatures;
import dev.ditspark.core.eval.NpzFile;
import dev.ditspark.core.eval.FashionEvaluation;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.plot.TrainingPlots;
import dev.ditspark.core.sample.SampleGenerator;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Grids and evaluations while training (sample.every, eval.every) in real single-worker runs on Fashion-MNIST and
 * on a latent dataset decoded by a tiny random VAE (file://; HDFS and S3 in spark-job's training tests).
 */
class TrainingSamplesTest {
    /** Grid columns in these runs; 10 rows (the classes). */
    private static final int PER_LABEL = 3;

    @TempDir
    static Path shared;

    static String data;

    @TempDir
    Path dir;

    @BeforeAll
    static void importData() throws Exception {
        data = shared.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 48);
    }

    private RunConfig config(String run, int maxSteps, List<String> overrides) throws Exception {
        Path yaml = dir.resolve(run + ".yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: %s}
                train: {global_batch: 8, max_steps: %d, lr: 1.0e-3, ema_decay: 0.5, log_every: 2, threads: 1, seed: 7}
                checkpoint: {uri: %s, every: 2, keep_last: 5}
                sample: {steps: "3", cfg_scale: 2.0, every: 2, grid_per_label: %d}
                """.formatted(data, maxSteps, dir.resolve(run).toUri(), PER_LABEL));
        return RunConfig.load(yaml, overrides);
    }

    private static void train(RunConfig cfg, TrainingListener listener) {
        try (Trainer t = new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration())) {
            t.run(listener);
        }
    }

    private static List<String> files(Path samples) throws Exception {
        try (Stream<Path> s = Files.list(samples)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static int[] pixels(Path png) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a PNG");
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    /** The checkpoint's EMA weights of {@code step} in a fresh DiT. */
    private static DiT emaOf(RunConfig cfg, long step, NDManager m) throws Exception {
        DiT dit = new DiT(cfg.model().toDiTConfig());
        try (SafetensorsFile f = CheckpointStore.open(cfg.checkpoint().uri(), new Configuration()).openTensors(step, "ema")) {
            StateDict.load(dit, f, m);
        }
        return dit;
    }

    @Test
    void gridsAppearEverySampleEveryStepsAndAtTheEndAsTheEmaWeightsSampleThem() throws Exception {
        RunConfig cfg = config("run", 5, List.of());
        train(cfg, TrainingListener.NONE);
        Path samples = dir.resolve("run").resolve(TrainingSamples.DIRECTORY);
        // Every 2 steps and the last; nothing else in the directory (no temporaries, no .crc files).
        assertEquals(List.of("step-000000002.png", "step-000000004.png", "step-000000005.png"), files(samples));
        for (String f : files(samples)) {
            BufferedImage img = ImageIO.read(samples.resolve(f).toFile());
            assertEquals(PER_LABEL * (28 + 2) + 2, img.getWidth(), f);
            assertEquals(10 * (28 + 2) + 2, img.getHeight(), f + ": one row per class");
        }
        // The grid of step 4 is the checkpoint's EMA weights sampled for classes 0..9 (PER_LABEL each, row-major)
        // with the noise of (train.seed, i) and the run's sample settings.
        Path expected = dir.resolve("expected.png");
        try (NDManager m = TorchEngine.newManager(); NoGrad off = NoGrad.enter()) {
            DiT ema = emaOf(cfg, 4, m);
            long[] labels = TrainingSamples.repeat(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, PER_LABEL);
            NDArray x = new SampleGenerator(ema, cfg.sample()).sampleRange(m, labels, 0, labels.length, 7,
                    ProgressListener.NONE);
            SampleImages.fromPixels(x.toFloatArray(), labels.length, 1, 28, 28).writeGrid(expected, PER_LABEL);
        }
        assertArrayEquals(pixels(expected), pixels(samples.resolve("step-000000004.png")));
        // Same noise, other weights: the grids of steps 2 and 4 differ.
        assertFalse(java.util.Arrays.equals(pixels(samples.resolve("step-000000002.png")),
                pixels(samples.resolve("step-000000004.png"))));
    }

    @Test
    void aResumedRunDrawsTheSameGridAsAnUninterruptedOne() throws Exception {
        train(config("whole", 4, List.of()), TrainingListener.NONE);
        RunConfig crashing = config("crashed", 4, List.of());
        assertThrows(IllegalStateException.class, () -> train(crashing, new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() == 3) { // after checkpoint and grid 2: a crash
                    throw new IllegalStateException("crash");
                }
            }
        }));
        Path resumed = dir.resolve("crashed").resolve(TrainingSamples.DIRECTORY);
        assertEquals(List.of("step-000000002.png"), files(resumed));
        train(crashing, TrainingListener.NONE);
        assertEquals(List.of("step-000000002.png", "step-000000004.png"), files(resumed));
        Path whole = dir.resolve("whole").resolve(TrainingSamples.DIRECTORY);
        for (String f : files(whole)) {
            assertArrayEquals(pixels(whole.resolve(f)), pixels(resumed.resolve(f)), f);
        }
    }

    @Test
    void aRunMovedAsideTakesItsGridsAlong() throws Exception {
        train(config("run", 4, List.of()), TrainingListener.NONE);
        RunConfig fresh = config("run", 2, List.of("checkpoint.resume=false", "checkpoint.move_aside=true"));
        try (dev.ditspark.core.checkpoint.RunDirectory claimed = dev.ditspark.core.checkpoint.RunDirectory.claim(fresh,
                new Configuration())) {
            train(claimed.config(), TrainingListener.NONE);
        }
        assertEquals(List.of("step-000000002.png"), files(dir.resolve("run").resolve(TrainingSamples.DIRECTORY)));
        Path moved;
        try (Stream<Path> list = Files.list(dir)) {
            moved = list.filter(p -> p.getFileName().toString().startsWith("run.moved-")).findFirst().orElseThrow();
        }
        assertEquals(List.of("step-000000002.png", "step-000000004.png"), files(moved.resolve(TrainingSamples.DIRECTORY)));
    }

    @Test
    @Tag("e2e") // scores the 10,000 test images twice: ~25 s on 2 idle cores
    void evaluationsGoIntoMetricsJsonlAndTheirChart() throws Exception {
        Path classifierFile = dir.resolve("classifier.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            // A briefly trained classifier: the numbers only have to be the classifier's, not good.
            FashionClassifier.loadOrTrain(classifierFile, FashionMnist.installed(),
                    new FashionClassifier.Training(5, 32, 2e-3, 0), m, line -> { });
        }
        RunConfig cfg = config("eval", 5, List.of("sample.every=0", "eval.every=4", "eval.samples=20",
                "eval.classifier=" + classifierFile));
        List<MetricsRecord> logged = new ArrayList<>();
        train(cfg, new TrainingListener() {
            @Override
            public void onLog(MetricsRecord r) {
                logged.add(r);
            }
        });
        List<MetricsRecord> h = MetricsHistory.read(cfg.checkpoint().uri(), new Configuration());
        assertEquals(List.of(2L, 4L, 5L), h.stream().map(MetricsRecord::step).toList());
        assertEquals(logged, h);
        assertTrue(h.get(0).eval().isEmpty());
        for (MetricsRecord r : List.of(h.get(1), h.get(2))) {
            assertEquals(List.of(FashionScorer.ACCURACY, FashionScorer.FRECHET, FashionScorer.WORST),
                    r.eval().keySet().stream().sorted().toList(), "step " + r.step());
        }
        // Step 4's numbers are those of 20 class-balanced samples of the step-4 EMA weights with the noise of
        // (train.seed + 1, i), scored by the same classifier.
        try (NDManager m = TorchEngine.newManager(); NoGrad off = NoGrad.enter()) {
            DiT ema = emaOf(cfg, 4, m);
            long[] labels = TrainingSamples.balancedLabels(20, 10);
            NDArray x = new SampleGenerator(ema, cfg.sample()).sampleRange(m, labels, 0, 20, 8, ProgressListener.NONE);
            SampleImages images = SampleImages.fromPixels(x.toFloatArray(), 20, 1, 28, 28);
            FashionClassifier c = FashionClassifier.loadOrTrain(classifierFile, FashionMnist.installed(),
                    FashionClassifier.Training.standard(), m, line -> { });
            FashionEvaluation.Result expected = FashionEvaluation.of(c, FashionMnist.installed(), m)
                    .score(images.grayscale(), labels);
            Map<String, Double> got = h.get(1).eval();
            assertEquals(expected.accuracy(), got.get(FashionScorer.ACCURACY), 1e-12);
            assertEquals(expected.frechetDistance(), got.get(FashionScorer.FRECHET), 1e-6 * expected.frechetDistance());
            double worst = java.util.Arrays.stream(expected.perClassAccuracy()).min().orElseThrow();
            assertEquals(worst, got.get(FashionScorer.WORST), 1e-12);
        }
        // The plots drawn at the checkpoints have one evaluation panel per metric.
        BufferedImage chart = ImageIO.read(dir.resolve("eval").resolve("plots/eval.png").toFile());
        assertEquals(TrainingPlots.WIDTH, chart.getWidth());
        assertEquals(3 * TrainingPlots.EVAL_PANEL_HEIGHT, chart.getHeight());
        assertFalse(Files.exists(dir.resolve("eval").resolve(TrainingSamples.DIRECTORY)), "sample.every 0: no grids");
    }

    /** A latent dataset of 4×4×4 latents (32 px images through an f = 8 VAE), encoder {@code vae.safetensors}. */
    private String latentData(double scaleFactor) throws Exception {
        String uri = dir.resolve("latents").toUri().toString();
        DatasetManifest layout = DatasetManifest.describe(4, 4, 4, LatentDType.FLOAT32, "vae.safetensors", scaleFactor, 32,
                List.of("a", "b"), "test");
        Random r = new Random(3);
        try (LatentShardWriter w = LatentShardWriter.to(uri, layout).open()) {
            for (int i = 0; i < 8; i++) {
                float[] mean = new float[64];
                float[] std = new float[64];
                for (int k = 0; k < 64; k++) {
                    mean[k] = (float) r.nextGaussian() * 5;
                    std[k] = 0.1f;
                }
                w.write(new LatentRecord(i % 2, mean, std, mean, std, "synthetic/" + i));
            }
        }
        return uri;
    }

    private static Path tinyVae(Path file, double scaleFactor) throws Exception {
        VaeConfig tiny = new VaeConfig(3, 3, 4, List.of(4, 4, 4, 4), 1, 2, scaleFactor);
        try (NDManager m = TorchEngine.newManager()) {
            AutoencoderKL ae = new AutoencoderKL(tiny);
            ae.initialize(m, new Random(1));
            StateDict.write(ae, file, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, tiny.toJson()));
        }
        return file;
    }

    private RunConfig latentConfig(String latents, List<String> overrides) throws Exception {
        Path yaml = dir.resolve("latent.yaml");
        Files.writeString(yaml, """
                model: {input_size: 4, patch_size: 2, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 4, num_classes: 2}
                data: {uri: %s}
                train: {global_batch: 4, max_steps: 2, lr: 1.0e-3, ema_decay: 0.5, log_every: 1, threads: 1}
                checkpoint: {uri: %s, every: 2}
                sample: {steps: "2", every: 2, grid_per_label: 2}
                """.formatted(latents, dir.resolve("latent-run").toUri()));
        return RunConfig.load(yaml, overrides);
    }

    @Test
    void latentGridsAreDecodedThroughSampleVae() throws Exception {
        Path vae = tinyVae(dir.resolve("vae.safetensors"), 0.18215);
        RunConfig cfg = latentConfig(latentData(0.18215), List.of("sample.vae=" + vae));
        train(cfg, TrainingListener.NONE);
        Path grid = dir.resolve("latent-run").resolve(TrainingSamples.DIRECTORY).resolve("step-000000002.png");
        BufferedImage img = ImageIO.read(grid.toFile());
        // Two classes, two each, as 32 px images (decoded), not 4 px latents.
        assertEquals(2 * (32 + 2) + 2, img.getWidth());
        assertEquals(2 * (32 + 2) + 2, img.getHeight());
        // The pixels are the VAE's decoding of latent / scale factor of the EMA's samples.
        Path expected = dir.resolve("expected.png");
        try (NDManager m = TorchEngine.newManager(); NoGrad off = NoGrad.enter()) {
            DiT ema = emaOf(cfg, 2, m);
            long[] labels = {0, 0, 1, 1};
            NDArray z = new SampleGenerator(ema, cfg.sample()).sampleRange(m, labels, 0, 4, 0, ProgressListener.NONE);
            AutoencoderKL ae = AutoencoderKL.load(vae, m);
            NDArray px = ae.decode(z.div(Functional.scalar(z, 0.18215f)));
            SampleImages.fromPixels(px.toFloatArray(), 4, 3, 32, 32).writeGrid(expected, 2);
        }
        assertArrayEquals(pixels(expected), pixels(grid));
    }

    @Test
    void aVaeThatCannotDecodeTheDataIsRefusedBeforeTheFirstStep() throws Exception {
        String latents = latentData(0.18215);
        Path other = tinyVae(dir.resolve("other.safetensors"), 0.13025);
        RunConfig cfg = latentConfig(latents, List.of("sample.vae=" + other));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration()).close());
        assertEquals("sample.vae " + other + ": scale factor 0.13025 differs from 0.18215 of the VAE the model's training "
                + "data was encoded with ('vae.safetensors' in the data's manifest.json); decode with that VAE", e.getMessage());

        Path missing = dir.resolve("nowhere.safetensors");
        UncheckedIOException m = assertThrows(UncheckedIOException.class, () -> new Trainer(latentConfig(latents,
                List.of("sample.vae=" + missing)), Collective.local(), Device.cpu(), new Configuration()).close());
        assertEquals("sample.vae " + missing + ": no such file", m.getMessage());

        ConfigException none = assertThrows(ConfigException.class, () -> latentConfig(latents, List.of()));
        assertTrue(none.getMessage().startsWith("sample.vae: this model samples 4-channel latents: give the KL VAE"),
                none.getMessage());
        // Without grids or evaluations no VAE is needed.
        latentConfig(latents, List.of("sample.every=0"));
    }

    /** {@code n} random RGB images of {@code size} px as an .npz of arr_0 (a reference of real images). */
    private static Path imagesNpz(Path file, int n, int size, long seed) throws Exception {
        Random r = new Random(seed);
        float[] px = new float[n * 3 * size * size];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) Math.tanh(r.nextGaussian());
        }
        SampleImages.fromPixels(px, n, 3, size, size).writeNpz(file);
        return file;
    }

    @Test
    @Tag("e2e") // seven Inception forwards at 299 px and two random Inceptions: ~35 s on 2 busy cores
    void latentFidAndInceptionScoreGoIntoMetricsJsonlAsAdmEvaluationComputesThem() throws Exception {
        Path vae = tinyVae(dir.resolve("vae.safetensors"), 0.18215);
        Path ref = imagesNpz(dir.resolve("ref.npz"), 3, 32, 5);
        // Two samples, three reference images: the Inception resizes each to 299 px (~0.5 s a forward here).
        RunConfig cfg = latentConfig(latentData(0.18215), List.of("sample.vae=" + vae, "sample.every=0",
                "eval.every=2", "eval.samples=2", "eval.metric=fid", "eval.reference=" + ref,
                "eval.inception=random:3"));
        train(cfg, TrainingListener.NONE);
        List<MetricsRecord> h = MetricsHistory.read(cfg.checkpoint().uri(), new Configuration());
        MetricsRecord last = h.get(h.size() - 1);
        assertEquals(2L, last.step());
        assertEquals(List.of(FidScorer.FID, FidScorer.INCEPTION_SCORE), last.eval().keySet().stream().sorted().toList());
        // The reference's statistics were computed once and cached next to it, as dit eval --ref caches them.
        try (Stream<Path> list = Files.list(dir)) {
            assertEquals(1, list.filter(f -> f.getFileName().toString().matches("ref\\.inception-[0-9a-f]{16}\\.npz"))
                    .count(), "the reference's cache");
        }

        // Independently: the step-2 EMA weights sample 2 class-balanced latents with the noise of (train.seed + 1, i),
        // the VAE decodes them, and ADM's evaluation of those images against the reference gives the same numbers.
        Path samples = dir.resolve("samples.npz");
        try (NDManager m = TorchEngine.newManager(); NoGrad off = NoGrad.enter()) {
            DiT ema = emaOf(cfg, 2, m);
            long[] labels = TrainingSamples.balancedLabels(2, 2);
            NDArray z = new SampleGenerator(ema, cfg.sample()).sampleRange(m, labels, 0, 2, cfg.train().seed() + 1,
                    ProgressListener.NONE);
            NDArray px = AutoencoderKL.load(vae, m).decode(z.div(Functional.scalar(z, 0.18215f)));
            SampleImages.fromPixels(px.toFloatArray(), 2, 3, 32, 32).writeNpz(samples);
        }
        try (NDManager m = TorchEngine.newManager()) {
            FidInception net = FidInception.random(3, m);
            AdmEvaluation.Reference reference = AdmEvaluation.reference(ref, net, m, 4, line -> { }); // the cache
            InceptionFeatures f;
            try (NpzFile npz = NpzFile.open(samples)) {
                f = AdmEvaluation.extract(npz, "arr_0", net, m, 4, line -> { });
            }
            // AdmEvaluation.evaluate's FID and IS (its precision/recall need more than k = 3 images a side).
            double expectedFid = FeatureStatistics.fit(f.pool(), 2, FidInception.POOL_DIM, m)
                    .frechetDistance(reference.pool(), m);
            double expectedIs = InceptionScore.of(f.logits(), 2, FidInception.CLASSES, InceptionScore.ADM_SPLIT);
            double fid = last.eval().get(FidScorer.FID);
            assertTrue(expectedFid > 1e-3, "samples differ from the reference: " + expectedFid);
            assertEquals(expectedFid, fid, 1e-6 * expectedFid);
            assertEquals(expectedIs, last.eval().get(FidScorer.INCEPTION_SCORE), 1e-9);
        }
    }

    @Test
    void fidFilesAreCheckedBeforeTheFirstStep() throws Exception {
        String latents = latentData(0.18215);
        Path vae = tinyVae(dir.resolve("vae.safetensors"), 0.18215);
        Path ref = imagesNpz(dir.resolve("ref.npz"), 2, 8, 1);
        List<String> fid = List.of("sample.vae=" + vae, "eval.every=2", "eval.samples=4", "eval.metric=fid");
        Path nowhere = dir.resolve("nowhere.npz");
        assertEquals("eval.reference " + nowhere + ": no such file", refusal(latentConfig(latents, plus(fid,
                "eval.reference=" + nowhere, "eval.inception=random:0"))));
        Path noWeights = dir.resolve("inception.safetensors");
        assertEquals("eval.inception " + noWeights + ": no such file", refusal(latentConfig(latents, plus(fid,
                "eval.reference=" + ref, "eval.inception=" + noWeights))));
        Path stats = dir.resolve("stats.npz");
        dev.ditspark.core.eval.NpzFile.write(stats, Map.of("mu", new double[] {1, 2}), Map.of("mu", new long[] {2}));
        String e = refusal(latentConfig(latents, plus(fid, "eval.reference=" + stats, "eval.inception=random:0")));
        assertTrue(e.startsWith("eval.reference " + stats + ": has 'mu' but no 'sigma'"), e);
        Path grey = dir.resolve("grey.npz");
        dev.ditspark.core.eval.NpzFile.write(grey, Map.of("arr_0", new float[] {1, 2}), Map.of("arr_0", new long[] {2}));
        e = refusal(latentConfig(latents, plus(fid, "eval.reference=" + grey, "eval.inception=random:0")));
        assertTrue(e.startsWith("eval.reference " + grey + ": arr_0 must be (N, H, W, 3) uint8 images"), e);
        assertEquals(1, e.lines().count());
    }

    private static List<String> plus(List<String> a, String... more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(more));
        return all;
    }

    /** The message of the exception with which a Trainer for {@code cfg} refuses to start. */
    private static String refusal(RunConfig cfg) {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new Trainer(cfg, Collective.local(), Device.cpu(), new Configuration()).close());
        return e.getMessage();
    }

    @Test
    void badSettingsAreNamed() throws Exception {
        assertMessage("sample.every: must not be negative", List.of("sample.every=-1"));
        assertMessage("sample.grid_labels: 10 is not a class of this model (0..9)", List.of("sample.grid_labels=[1, 10]"));
        assertMessage("sample.grid_per_label: must be positive", List.of("sample.grid_per_label=0"));
        assertMessage("eval.every: must not be negative", List.of("eval.every=-5"));
        assertMessage("eval.samples: must be at least 2", List.of("eval.every=5", "eval.samples=1"));
        assertMessage("eval.metric: one of fashion, fid, got fad", List.of("eval.every=5", "eval.metric=fad"));
        assertMessage("eval.reference: eval.metric fid needs the reference .npz", List.of("eval.every=5",
                "eval.metric=fid", "eval.inception=random:0"));
        assertMessage("eval.inception: eval.metric fid needs the FID Inception-v3 weights", List.of("eval.every=5",
                "eval.metric=fid", "eval.reference=ref.npz"));
        assertMessage("eval.inception: expected random:SEED with an integer SEED, got random:x", List.of("eval.every=5",
                "eval.metric=fid", "eval.reference=ref.npz", "eval.inception=random:x"));
        assertMessage("eval.metric: fid scores RGB images (a latent model decoded through sample.vae, or a 3-channel "
                + "pixel model), this model samples one-channel images; use eval.metric fashion", List.of("eval.every=5",
                "eval.metric=fid", "eval.reference=ref.npz", "eval.inception=random:0"));
        assertMessage("eval.metric: fashion scores 28x28 one-channel samples of 10 classes, this model samples 1x28x28 of "
                + "12 classes", List.of("eval.every=5", "model.num_classes=12"));
        assertMessage("sample.cfg_scale: the grids (sample.every) and evaluations (eval.every) sample with guidance 2.0, "
                + "but the model has no null class", List.of("model.class_dropout_prob=0"));
        // Off by default: a cluster config samples nothing while training.
        RunConfig plain = RunConfig.load(Path.of(System.getProperty("user.dir")).resolve("../conf/dit-xl-2-256.yaml"),
                List.of("data.uri=file:///d", "checkpoint.uri=file:///c"));
        assertEquals(0, plain.sample().every());
        assertFalse(plain.eval().enabled());
    }

    private void assertMessage(String start, List<String> overrides) throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> config("bad", 2, overrides));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }

    @Test
    void defaultGridRowsSpreadOverTheClassesAndEvaluationLabelsAreBalanced() {
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                dev.ditspark.core.config.SampleSpec.defaults().gridLabelsFor(10));
        assertArrayEquals(new long[] {0, 100, 200, 300, 400, 500, 600, 700, 800, 900},
                dev.ditspark.core.config.SampleSpec.defaults().gridLabelsFor(1000));
        assertArrayEquals(new long[] {0, 1}, dev.ditspark.core.config.SampleSpec.defaults().gridLabelsFor(2));
        assertArrayEquals(new long[] {0, 0, 1, 1}, TrainingSamples.repeat(new long[] {0, 1}, 2));
        long[] y = TrainingSamples.balancedLabels(100, 10);
        for (int c = 0; c < 10; c++) {
            final int k = c;
            assertEquals(10, java.util.Arrays.stream(y).filter(l -> l == k).count());
        }
        assertArrayEquals(new long[] {0, 250, 500, 750}, TrainingSamples.balancedLabels(4, 1000));
    }
}
