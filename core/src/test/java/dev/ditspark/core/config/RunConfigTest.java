package dev.ditspark.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.model.DiTConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigTest {

    @TempDir
    Path dir;

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, text);
        return f;
    }

    private static final String XL = """
            model: {name: DiT-XL/2, image_size: 256}
            data: {uri: hdfs://nn/latents/imagenet256}
            checkpoint: {uri: s3a://bucket/runs/xl2}
            """;

    @Test
    void publishedModelWithThePaperRecipeByDefault() throws Exception {
        RunConfig c = RunConfig.load(yaml(XL), List.of());
        assertEquals(DiTConfig.named("DiT-XL/2", 256), c.model().toDiTConfig());
        assertEquals(256, c.train().globalBatch());
        assertEquals(1e-4, c.train().lr());
        assertEquals(0.0, c.train().weightDecay());
        assertEquals(0.9999, c.train().emaDecay());
        assertEquals(1e-8, c.train().eps());
        assertEquals("250", c.sample().steps());
    }

    @Test
    void overridesAreTypedLikeTheFile() throws Exception {
        RunConfig c = RunConfig.load(yaml(XL), List.of("train.workers=8", "train.micro_batch=16", "train.lr=2e-4",
                "model.conditioning=in-context", "sample.cfg_scale=1.5"));
        assertEquals(8, c.train().workers());
        assertEquals(32, c.train().perWorkerBatch());
        assertEquals(2, c.train().accumulationSteps());
        assertEquals(2e-4, c.train().lr());
        assertEquals(1.5, c.sample().cfgScale());
    }

    @Test
    void customShapeForPixelData() throws Exception {
        RunConfig c = RunConfig.load(yaml("""
                model: {input_size: 28, patch_size: 4, hidden_size: 64, depth: 2, num_heads: 4, in_channels: 1, num_classes: 10}
                data: {uri: file:///tmp/fmnist}
                checkpoint: {uri: file:///tmp/run}
                """), List.of());
        DiTConfig m = c.model().toDiTConfig();
        assertEquals(49, m.numPatches());
        assertEquals(2, m.outChannels());
    }

    @Test
    void errorsNameTheField() throws Exception {
        Path f = yaml(XL);
        assertMessage("train.globl_batch: unknown field", () -> RunConfig.load(f, List.of("train.globl_batch=3")));
        assertMessage("train.global_batch: must split evenly over train.workers 3",
                () -> RunConfig.load(f, List.of("train.workers=3")));
        assertMessage("train.lr: must be positive", () -> RunConfig.load(f, List.of("train.lr=0")));
        assertMessage("train.max_steps:", () -> RunConfig.load(f, List.of("train.max_steps=lots")));
        assertMessage("model.name: a published name fixes", () -> RunConfig.load(f, List.of("model.depth=3")));
        assertMessage("model.image_size:", () -> RunConfig.load(f, List.of("model.image_size=260")));
        assertMessage("model.conditioning: unknown value 'film'", () -> RunConfig.load(f, List.of("model.conditioning=film")));
        assertMessage("sample.sampler:", () -> RunConfig.load(f, List.of("sample.sampler=euler")));
        assertMessage("checkpoint.uri:", () -> RunConfig.load(yaml("model: {name: DiT-S/2}\ndata: {uri: x}\ncheckpoint: {}\n"), List.of()));
        assertMessage("data: section is missing", () -> RunConfig.load(yaml("model: {name: DiT-S/2}\ncheckpoint: {uri: x}\n"), List.of()));
        assertMessage("config file " + dir.resolve("nope.yaml") + " does not exist",
                () -> RunConfig.load(dir.resolve("nope.yaml"), List.of()));
        assertMessage("override 'train.lr': expected section.field=value", () -> RunConfig.load(f, List.of("train.lr")));
    }

    @Test
    void precisionAndAllreduceDtype() throws Exception {
        Path f = yaml(XL);
        RunConfig defaults = RunConfig.load(f, List.of());
        assertEquals(null, defaults.train().precision());
        assertEquals("tf32", defaults.train().precisionFor(true), "TF32 on GPUs, as the reference");
        assertEquals("fp32", defaults.train().precisionFor(false));
        assertEquals("float32", defaults.collective().allreduceDtype());
        RunConfig set = RunConfig.load(f, List.of("train.precision=fp32", "collective.allreduce_dtype=bf16"));
        assertEquals("fp32", set.train().precisionFor(true));
        assertEquals("bfloat16", set.collective().allreduceDtype(), "one spelling (FloatType), bf16 accepted");
        // the settings survive the trip to the executors (the task re-binds the driver's tree)
        RunConfig again = RunConfig.bind((com.fasterxml.jackson.databind.node.ObjectNode) set.toTree(), List.of(), "tree");
        assertEquals("fp32", again.train().precision());
        assertEquals("bfloat16", again.collective().allreduceDtype());
        for (String half : List.of("fp16", "f16", "float16", "FP16", "half")) {
            assertEquals("float16", RunConfig.load(f, List.of("collective.allreduce_dtype=" + half)).collective()
                    .allreduceDtype(), half);
        }
        assertMessage("train.precision: fp32 or tf32, got bf16",
                () -> RunConfig.load(f, List.of("train.precision=bf16")));
        assertMessage("collective.allreduce_dtype: float32, float16 or bfloat16 (or f32/fp32, f16/fp16, bf16), got int8",
                () -> RunConfig.load(f, List.of("collective.allreduce_dtype=int8")));
    }

    @Test
    void wholeNumberFieldsRefuseFractionsAndNameTheField() throws Exception {
        Path f = yaml("model: {name: DiT-S/2}\ndata: {uri: x}\ncheckpoint: {uri: y}\n");
        // Issue 10 item 14: 8.5 was truncated to 8.
        assertMessage("train.global_batch: must be a whole number, got 8.5",
                () -> RunConfig.load(f, List.of("train.global_batch=8.5")));
        assertMessage("train.max_steps: must be a whole number, got 2.5", () -> RunConfig.load(f, List.of("train.max_steps=2.5")));
        assertMessage("checkpoint.every: must be a whole number, got 0.5", () -> RunConfig.load(f, List.of("checkpoint.every=0.5")));
        assertMessage("model.num_classes: must be a whole number, got 10.25",
                () -> RunConfig.load(f, List.of("model.num_classes=10.25")));
        assertMessage("collective.bucket_mb: must be a whole number, got 'big'",
                () -> RunConfig.load(f, List.of("collective.bucket_mb=big")));
        assertMessage("train.global_batch: 3000000000 is out of range",
                () -> RunConfig.load(f, List.of("train.global_batch=3000000000")));
        assertMessage("train.lr: must be a number, got 'fast'", () -> RunConfig.load(f, List.of("train.lr=fast")));
        assertMessage("train.global_batch: must be a whole number, got 8.5",
                () -> RunConfig.load(yaml("model: {name: DiT-S/2}\ndata: {uri: x}\ncheckpoint: {uri: y}\n"
                        + "train: {global_batch: 8.5}\n"), List.of()));
        // An integral value written as a float is that integer; 1e-4 written without a dot is still a number.
        RunConfig c = RunConfig.load(f, List.of("train.max_steps=4.0e5", "train.global_batch=16.0", "train.lr=1e-4"));
        assertEquals(400_000L, c.train().maxSteps());
        assertEquals(16, c.train().globalBatch());
        assertEquals(1e-4, c.train().lr());
    }

    @Test
    void aModelNameTypoIsReportedAsModelNameWithTheValidNames() throws Exception {
        Path f = yaml("model: {name: DiT-S/2}\ndata: {uri: x}\ncheckpoint: {uri: y}\n");
        assertMessage("model.name: unknown model 'DiT-XS/2', expected one of DiT-S/2, DiT-S/4, DiT-S/8, DiT-B/2,",
                () -> RunConfig.load(f, List.of("model.name=DiT-XS/2")));
    }

    private static void assertMessage(String prefix, org.junit.jupiter.api.function.Executable e) {
        ConfigException ex = assertThrows(ConfigException.class, e);
        assertTrue(ex.getMessage().startsWith(prefix), "expected '" + prefix + "...' but was: " + ex.getMessage());
    }
}
