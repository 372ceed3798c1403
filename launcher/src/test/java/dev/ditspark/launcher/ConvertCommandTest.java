package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.TensorDType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dit convert}: a run's EMA weights exported under the reference names, re-read by two readers. */
class ConvertCommandTest {

    @TempDir
    static Path dir;

    static String ckpt;

    @BeforeAll
    static void train() throws Exception {
        String data = dir.resolve("fmnist").toUri().toString();
        FashionMnist.installed().importTo(data, FashionMnist.Split.TRAIN, 16);
        ckpt = dir.resolve("ckpt").toUri().toString();
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 7, hidden_size: 16, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: '%s'}
                train: {global_batch: 8, max_steps: 2, lr: 1.0e-3, ema_decay: 0.5, threads: 1}
                checkpoint: {uri: '%s', every: 2}
                """.formatted(data, ckpt));
        try (Trainer t = new Trainer(RunConfig.load(yaml, List.of()), Collective.local(), Device.cpu(), new Configuration())) {
            t.run(TrainingListener.NONE);
        }
    }

    @Test
    void exportsTheEmaUnderReferenceNamesInF16() throws Exception {
        Path out = dir.resolve("ema16.safetensors");
        DitRun exported = DitRun.of("convert", "--checkpoint", ckpt, "--dtype", "f16", "--out", out.toString());
        assertEquals(0, exported.code(), exported.all());
        CheckpointStore store = CheckpointStore.open(ckpt, new Configuration());
        try (SafetensorsFile ema = store.openTensors(2, "ema"); SafetensorsFile f16 = SafetensorsFile.open(out)) {
            assertEquals(ema.names(), f16.names());
            assertTrue(f16.names().contains("blocks.0.attn.qkv.weight"));
            for (String name : ema.names()) {
                assertEquals(TensorDType.F16, f16.info(name).dtype());
                float[] a = ema.readFloat32(name);
                float[] b = f16.readFloat32(name);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], Math.abs(a[i]) * 1e-3 + 1e-7, name + "[" + i + "]");
                }
            }
            assertEquals("ema", f16.metadata().get("weights"));
        }
        // Back to F32 with the model's keys checked: exact re-encoding of the F16 values.
        Path back = dir.resolve("ema32.safetensors");
        DitRun reencoded = DitRun.of("convert", "--weights", out.toString(), "--out", back.toString());
        assertEquals(0, reencoded.code(), reencoded.all());
        try (SafetensorsFile f16 = SafetensorsFile.open(out); SafetensorsFile f32 = SafetensorsFile.open(back)) {
            for (String name : f16.names()) {
                assertEquals(TensorDType.F32, f32.info(name).dtype());
                org.junit.jupiter.api.Assertions.assertArrayEquals(f16.readFloat32(name), f32.readFloat32(name), 0f, name);
            }
        }
    }

    @Test
    void aFileThatIsNotTheNamedModelIsRefusedNamingTheKeys() throws Exception {
        Path out = dir.resolve("ema.safetensors");
        DitRun exported = DitRun.of("convert", "--checkpoint", ckpt, "--out", out.toString());
        assertEquals(0, exported.code(), exported.all());
        DitRun refused = DitRun.of("convert", "--weights", out.toString(), "--model", "DiT-S/8", "--out",
                dir.resolve("never.safetensors").toString());
        assertTrue(refused.code() != 0, refused.all());
        assertTrue(refused.err().contains("blocks.1."), refused.all()); // DiT-S/8 has 12 blocks; the file has one
        assertTrue(!Files.exists(dir.resolve("never.safetensors")));
    }

    @Test
    void theExportIsReadableByOthersAndItsMetadataHoldsNoPath() throws Exception {
        // Issue 10 item 16: mode 0600 (a temp file's) and the absolute checkout path in the metadata.
        Path out = dir.resolve("shared/ema.safetensors");
        DitRun exported = DitRun.of("convert", "--checkpoint", ckpt, "--out", out.toString());
        assertEquals(0, exported.code(), exported.all());
        Path reference = Files.createFile(dir.resolve("shared/umask-reference")); // what the umask gives a new file
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(out));
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            for (var e : f.metadata().entrySet()) {
                assertTrue(!e.getValue().contains(dir.toString()) && !e.getValue().contains("file:"), e.toString());
            }
            assertEquals("2", f.metadata().get("step"));
        }
        try (var files = Files.list(dir.resolve("shared"))) {
            assertEquals(2, files.count(), "no temporary left behind");
        }
    }

    @Test
    void anOutputThatCannotBeWrittenIsRefusedBeforeReading() throws Exception {
        Path d = Files.createDirectories(dir.resolve("a-dir"));
        DitRun r = DitRun.of("convert", "--checkpoint", ckpt, "--out", d.toString());
        assertEquals(2, r.code(), r.all());
        assertEquals("dit: --out " + d + ": is a directory, expected a file name", r.err().strip());
        Path missing = dir.resolve("nope.safetensors");
        DitRun w = DitRun.of("convert", "--weights", missing.toString(), "--out", dir.resolve("x.safetensors").toString());
        assertEquals("dit: --weights " + missing + ": no such file", w.err().strip());
    }

    @Test
    void aBadDtypeIsNamed() {
        DitRun bad = DitRun.of("convert", "--checkpoint", ckpt, "--dtype", "int8", "--out", dir.resolve("x").toString());
        assertEquals(2, bad.code(), bad.all());
        assertTrue(bad.err().contains("--dtype: float32, float16 or bfloat16 (or f32/fp32, f16/fp16, bf16), got int8"), bad.all());
    }

    @Test
    void aCorruptedCheckpointIsNeverExported() throws Exception {
        // Issue 10 #5: one flipped byte in a copy of the run without Hadoop's .crc files (as on S3).
        Path copy = dir.resolve("copy");
        try (var files = Files.walk(dir.resolve("ckpt"))) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(dir.resolve("ckpt").relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else if (!f.getFileName().toString().startsWith(".")) {
                    Files.copy(f, to);
                }
            }
        }
        Path ema = copy.resolve("step-000000002/ema.safetensors");
        byte[] b = Files.readAllBytes(ema);
        b[b.length - 7] ^= 0x20;
        Files.write(ema, b);
        Path out = dir.resolve("never.safetensors");
        DitRun r = DitRun.of("convert", "--checkpoint", copy.toUri().toString(), "--step", "2", "--out", out.toString());
        assertEquals(1, r.code(), r.all());
        String at = CheckpointStore.open(copy.toUri().toString(), new Configuration()).location(2);
        assertEquals("dit: checkpoint " + at + " is damaged: checksum mismatch in " + at
                + "/ema.safetensors (the file was altered or corrupted)", r.err().strip(), r.all());
        // Without --step the newest intact checkpoint is taken: here there is none left.
        r = DitRun.of("convert", "--checkpoint", copy.toUri().toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().startsWith("dit: --checkpoint " + copy.toUri() + ": no intact committed checkpoint there"), r.all());
        assertTrue(Files.notExists(out));
    }
}
