package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 items 4, 8 and 11 end to end: {@code dit sample} killed with SIGKILL mid-run resumes from its finished
 * chunks and ends with the same samples.npz as an uninterrupted run; a model without a null class samples at
 * --cfg-scale 1; --vae is checked against the manifest of the dataset the run was trained on.
 */
@Tag("e2e")
class SampleResumeTest {
    @TempDir
    static Path dir;
    static Path weights;
    static Path vae;
    static final VaeConfig TINY = new VaeConfig(3, 3, 4, List.of(4, 4, 4, 4), 1, 2, 0.18215);

    @BeforeAll
    static void files() throws Exception {
        weights = dir.resolve("dit.safetensors");
        vae = dir.resolve("vae.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 2));
            dit.initialize(m, new Random(0));
            StateDict.write(dit, weights, TensorDType.F16, Map.of());
            writeVae(vae, TINY, m);
        }
    }

    static void writeVae(Path file, VaeConfig c, NDManager m) throws Exception {
        AutoencoderKL ae = new AutoencoderKL(c);
        ae.initialize(m, new Random(1));
        StateDict.write(ae, file, TensorDType.F32, Map.of(VaeConfig.METADATA_KEY, c.toJson()));
    }

    private static List<String> args(Path w, Path out) {
        return new ArrayList<>(List.of("sample", "--weights", w.toString(), "--model", "DiT-S/8", "--image-size", "64",
                "--num-classes", "2", "--per-class", "2", "--batch", "1", "--steps", "10", "--seed", "7",
                "--vae", vae.toString(), "--out", out.toString()));
    }

    private static long chunks(Path out) throws Exception {
        Path c = out.resolve("chunks");
        if (!Files.isDirectory(c)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(c)) {
            return s.filter(p -> p.getFileName().toString().matches("chunk-\\d+-\\d+\\.npz")).count();
        }
    }

    @Test
    void aKilledRunResumesFromItsChunksAndEndsIdenticalToAnUninterruptedOne() throws Exception {
        Path whole = dir.resolve("whole");
        long t0 = System.nanoTime();
        DitRun a = DitRun.of(args(weights, whole).toArray(String[]::new));
        assertEquals(0, a.code(), a.all());
        System.out.printf("uninterrupted run: %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, a.out());
        assertFalse(Files.exists(whole.resolve("chunks")), "chunks are removed once samples.npz is written");
        // No terminal here: progress comes as periodic lines.
        assertTrue(a.out().contains("sample: 50% (") && a.out().contains("sample: 100% ("), a.out());
        // The bar counts sample-steps (4 samples x 10 steps) and says so; its rate counts samples (issue 14 item 6).
        assertTrue(a.out().matches("(?s).*sample: 100% \\(40/40 sample-steps\\), .*, [0-9.]+ samples/s\n.*"), a.out());
        // The summary names the sampler once and counts the steps (not "ddpm, 10 steps").
        assertTrue(a.out().contains("4 samples (DDPM 10 steps, cfg "), a.out());

        // The same command in its own JVM, killed with SIGKILL once some but not all chunks are written.
        Path cut = dir.resolve("cut");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true",
                DitCommand.class.getName()));
        cmd.addAll(args(weights, cut));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("cut.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (chunks(cut) < 1 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        p.destroyForcibly(); // SIGKILL
        p.waitFor();
        System.out.printf("killed after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        long kept = chunks(cut);
        assertTrue(kept >= 1 && kept < 4 && !Files.exists(cut.resolve("samples.npz")),
                kept + " chunks at the kill; " + Files.readString(dir.resolve("cut.log")));

        DitRun resumed = DitRun.of(args(weights, cut).toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.all());
        System.out.printf("resumed at %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, resumed.out());
        assertTrue(resumed.out().contains("chunks resumed from an earlier run"), resumed.out());
        assertArrayEquals(Files.readAllBytes(whole.resolve("samples.npz")), Files.readAllBytes(cut.resolve("samples.npz")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("grid.png")), Files.readAllBytes(cut.resolve("grid.png")));
        SampleImages s = SampleImages.readNpz(cut.resolve("samples.npz"));
        assertEquals(4, s.count());
        assertArrayEquals(new long[] {0, 0, 1, 1}, s.labels().orElseThrow());
    }

    @Test
    void aModelWithoutANullClassSamplesAtScaleOne() throws Exception {
        Path noNull = dir.resolve("no-null.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT without = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 2).withClassDropoutProb(0));
            without.initialize(m, new Random(0));
            StateDict.write(without, noNull, TensorDType.F16, Map.of());
        }
        Path out = dir.resolve("nonull");
        DitRun r = DitRun.of("sample", "--weights", noNull.toString(), "--model", "DiT-S/8", "--image-size", "64",
                "--num-classes", "2", "--per-class", "1", "--steps", "2", "--cfg-scale", "1", "--vae", vae.toString(),
                "--out", out.toString());
        assertEquals(0, r.code(), r.all());
        assertEquals(2, SampleImages.readNpz(out.resolve("samples.npz")).count());
    }

    @Test
    void theVaeIsCheckedAgainstTheTrainingDataManifest() throws Exception {
        // A latent dataset encoded by a VAE of scale 0.18215 (64 px -> 4 x 8 x 8), a run trained on it for 1 step.
        String data = dir.resolve("latents").toUri().toString();
        DatasetManifest layout = DatasetManifest.describe(4, 8, 8, LatentDType.FLOAT32, "vae.safetensors", 0.18215, 64,
                List.of("a", "b"), "test");
        Random r = new Random(3);
        try (LatentShardWriter w = LatentShardWriter.to(data, layout).open()) {
            for (int i = 0; i < 8; i++) {
                float[] mean = new float[256];
                for (int k = 0; k < mean.length; k++) {
                    mean[k] = (float) r.nextGaussian();
                }
                w.write(new LatentRecord(i % 2, mean, new float[256], mean, new float[256], "t/" + i));
            }
        }
        String ckpt = dir.resolve("ckpt").toUri().toString();
        Path yaml = Files.writeString(dir.resolve("latent.yaml"), """
                model: {input_size: 8, patch_size: 4, hidden_size: 32, depth: 1, num_heads: 2, in_channels: 4, num_classes: 2}
                data: {uri: '%s'}
                train: {global_batch: 4, max_steps: 1, threads: 1}
                checkpoint: {uri: '%s', every: 1}
                sample: {steps: '2'}
                """.formatted(data, ckpt));
        try (Trainer t = new Trainer(RunConfig.load(yaml, List.of()), Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
        }
        Path other = dir.resolve("sdxl-like.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            writeVae(other, new VaeConfig(3, 3, 4, List.of(4, 4, 4, 4), 1, 2, 0.13025), m);
        }
        DitRun refused = DitRun.of("sample", "--checkpoint", ckpt, "--per-class", "1", "--vae", other.toString(),
                "--out", dir.resolve("s1").toString());
        assertEquals(2, refused.code(), refused.all());
        assertEquals("dit: --vae " + other + ": scale factor 0.13025 differs from 0.18215 of the VAE the model's training "
                + "data was encoded with ('vae.safetensors' in " + data.replaceAll("/$", "") + "/manifest.json); decode with "
                + "that VAE", refused.err().strip());
        assertFalse(Files.exists(dir.resolve("s1/samples.npz")));

        DitRun ok = DitRun.of("sample", "--checkpoint", ckpt, "--per-class", "1", "--vae", vae.toString(),
                "--out", dir.resolve("s2").toString());
        assertEquals(0, ok.code(), ok.all());
        assertFalse(ok.err().contains("warning"), ok.all());

        // The dataset moved away: one warning, and sampling goes on.
        Files.move(dir.resolve("latents"), dir.resolve("latents-moved"));
        DitRun unchecked = DitRun.of("sample", "--checkpoint", ckpt, "--per-class", "1", "--vae", vae.toString(),
                "--out", dir.resolve("s3").toString());
        assertEquals(0, unchecked.code(), unchecked.all());
        assertEquals(1, unchecked.err().split("warning", -1).length - 1, unchecked.all());
        assertTrue(unchecked.err().contains("--vae is not checked against the training data"), unchecked.all());
    }
}
