package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 items 4 and 14: {@code dit sample} refuses a bad input or output in one line before it samples (each
 * case ends in well under the time of one sampling step here, and writes no samples), naming the option.
 */
class SampleCommandTest {
    @TempDir
    static Path dir;
    static Path weights;
    static Path noNull;

    @BeforeAll
    static void weights() throws Exception {
        weights = dir.resolve("dit.safetensors");
        noNull = dir.resolve("no-null.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 2));
            dit.initialize(m, new Random(0));
            StateDict.write(dit, weights, TensorDType.F16, Map.of());
            DiT without = new DiT(DiTConfig.named("DiT-S/8", 64, 4, 2).withClassDropoutProb(0));
            without.initialize(m, new Random(0));
            StateDict.write(without, noNull, TensorDType.F16, Map.of());
        }
    }

    private static DitRun sample(Path w, String... extra) {
        List<String> args = new ArrayList<>(List.of("sample", "--weights", w.toString(), "--model", "DiT-S/8",
                "--image-size", "64", "--num-classes", "2"));
        args.addAll(List.of(extra));
        return DitRun.of(args.toArray(String[]::new));
    }

    private static void refused(DitRun r, String line) {
        assertEquals(2, r.code(), r.all());
        assertEquals("dit: " + line, r.err().strip(), r.all());
    }

    @Test
    void badInputsAndOutputsAreRefusedBeforeSampling() throws Exception {
        Path out = dir.resolve("never");
        Path vae = dir.resolve("vea.safetensors");
        refused(sample(weights, "--vae", vae.toString(), "--out", out.toString()), "--vae " + vae + ": no such file");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        refused(sample(weights, "--out", file.toString()), "--out " + file + ": is a file, expected a directory");
        Path missing = dir.resolve("missing.safetensors");
        refused(sample(missing, "--out", out.toString()), "--weights " + missing + ": no such file");
        refused(sample(weights, "--out", out.toString(), "--classes", "5"), "--classes: 5 classes asked, this model has 2");
        refused(sample(weights, "--out", out.toString(), "--labels", "0,7"), "--labels: 7 is not a class of this model (0..1)");
        refused(sample(weights, "--out", out.toString(), "--labels", "1", "--classes", "2"),
                "--labels and --classes: give one (--labels lists the classes itself)");
        DitRun steps = sample(weights, "--out", out.toString(), "--steps", "ddim0x");
        assertEquals(2, steps.code(), steps.all());
        assertTrue(steps.err().startsWith("dit: --steps"), steps.all());
        refused(DitRun.of("sample", "--weights", "s3a://bucket/dit.safetensors", "--model", "DiT-S/8", "--out", out.toString()),
                "--weights s3a://bucket/dit.safetensors: this option takes a local file, not a URI; copy it here first");
        DitRun unknown = sample(weights, "--out", "nofs://bucket/samples");
        assertEquals(2, unknown.code(), unknown.all());
        assertTrue(unknown.err().startsWith("dit: --out nofs://bucket/samples: cannot create the directory ("), unknown.all());
        refused(sample(weights, "--out", out.toString(), "--master", "spark://127.0.0.1:1"), "--out " + out
                + ": with --master the executors write the chunks there; give a directory they all reach "
                + "(hdfs://..., s3a://..., file:// on a shared mount)");
        refused(DitRun.of("sample", "--checkpoint", "runs/x/checkpoints", "--master", "spark://127.0.0.1:1", "--out",
                "hdfs://127.0.0.1:1/s"), "--checkpoint runs/x/checkpoints: with --master the executors read the weights "
                + "there; give a URI they all reach (hdfs://..., s3a://..., file:// on a shared mount)");
        refused(sample(weights, "--out", out.toString(), "--num-samples", "10", "--per-class", "2"),
                "--num-samples: draws uniform labels of all classes; not with --per-class");
        refused(sample(weights, "--out", out.toString(), "--workers", "2", "--gpu", "0"), "--gpu: one worker here only; "
                + "Spark workers take their GPUs from Spark (--master with spark.task.resource.gpu.amount=1)");
        assertFalse(Files.exists(Path.of("s3a:")), "no local directory made of a URI");
        refused(DitRun.of("sample", "--weights", weights.toString(), "--model", "DiT-XS/8", "--out", out.toString()),
                "--model: unknown model 'DiT-XS/8', "
                + "expected one of DiT-S/2, DiT-S/4, DiT-S/8, DiT-B/2, DiT-B/4, DiT-B/8, DiT-L/2, DiT-L/4, DiT-L/8, "
                + "DiT-XL/2, DiT-XL/4, DiT-XL/8");
        assertFalse(Files.exists(out.resolve("samples.npz")));
        assertFalse(Files.exists(out.resolve("chunks")));
    }

    @Test
    void numericOptionsOutOfRangeNameTheOption() {
        Path out = dir.resolve("never2");
        refused(sample(weights, "--batch", "0", "--out", out.toString()), "--batch: must be at least 1, got 0 (see 'dit sample --help')");
        refused(sample(weights, "--batch", "-1", "--out", out.toString()), "--batch: must be at least 1, got -1 (see 'dit sample --help')");
        refused(sample(weights, "--grid-per-class", "0"), "--grid-per-class: must be at least 1, got 0 (see 'dit sample --help')");
        refused(sample(weights, "--per-class", "0"), "--per-class: must be at least 1, got 0 (see 'dit sample --help')");
        refused(sample(weights, "--num-samples", "0"), "--num-samples: must be at least 1, got 0 (see 'dit sample --help')");
        refused(sample(weights, "--workers", "0"), "--workers: must be at least 1, got 0 (see 'dit sample --help')");
        refused(sample(weights, "--labels", "1,-2"), "--labels: must be at least 0, got -2 (see 'dit sample --help')");
        refused(sample(weights, "--cfg-scale", "0.5"), "--cfg-scale: must be at least 1, got 0.5 (see 'dit sample --help')");
        refused(sample(weights, "--cfg-scale", "NaN"), "--cfg-scale: must be a finite number, got NaN (see 'dit sample --help')");
        refused(sample(weights, "--gpu", "-1"), "--gpu: must be at least 0, got -1 (see 'dit sample --help')");
        refused(DitRun.of("convert", "--weights", weights.toString(), "--step", "-3", "--out", "x"),
                "--step: must be at least 0, got -3 (see 'dit convert --help')");
        refused(DitRun.of("info", "--image-size", "0"), "--image-size: must be at least 1, got 0 (see 'dit info --help')");
        refused(DitRun.of("eval", "--samples", "x.npz", "--threads", "0"), "--threads: must be at least 1, got 0 (see 'dit eval --help')");
        refused(DitRun.of("demo", "--per-class", "0"), "--per-class: must be at least 1, got 0 (see 'dit demo --help')");
        refused(DitRun.of("prepare", "--input", "i", "--output", "o", "--vae", "v", "--batch", "0"),
                "--batch: must be at least 1, got 0 (see 'dit prepare --help')");
        refused(DitRun.of("bench", "--iterations", "0"), "--iterations: must be at least 1, got 0 (see 'dit bench --help')");
        refused(DitRun.of("train", "--config", "x.yaml", "--workers", "0"), "--workers: must be at least 1, got 0 (see 'dit train --help')");
        refused(DitRun.of("sample", "--weights", weights.toString(), "--batch", "many"),
                "Invalid value for option '--batch': 'many' is not an int (see 'dit sample --help')");
    }

    @Test
    void guidanceOnAModelWithoutANullClassIsRefusedAndScaleOneSamples() throws Exception {
        Path out = dir.resolve("nonull");
        refused(sample(noNull, "--out", out.toString()), "--cfg-scale (default): guidance scale 4.0 needs a null class, "
                + "but this model was trained without label dropout (model.class_dropout_prob = 0) and has none; sample it "
                + "with --cfg-scale 1");
        refused(sample(noNull, "--out", out.toString(), "--cfg-scale", "2"), "--cfg-scale: guidance scale 2.0 needs a null "
                + "class, but this model was trained without label dropout (model.class_dropout_prob = 0) and has none; "
                + "sample it with --cfg-scale 1");
        // --weights infers "no null class" from the file's label table (2 rows for 2 classes); SampleResumeTest
        // samples it at scale 1.
        assertFalse(Files.exists(out.resolve("samples.npz")));
    }
}
