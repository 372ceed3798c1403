package dev.ditspark.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import dev.ditspark.core.weights.TensorDType;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

    @TempDir
    Path dir;

    private static TrainingState state(long step) throws Exception {
        return new TrainingState(step, 2, 17, 42, 2, step * 64, new ObjectMapper().readTree("{\"model\":\"DiT-S/2\"}"));
    }

    private static Map<String, SafetensorsWriter> tensors(float v) {
        return Map.of("model", new SafetensorsWriter().add("w", TensorDType.F32, new long[] {2}, new float[] {v, -v}),
                "ema", new SafetensorsWriter().add("w", TensorDType.F32, new long[] {2}, new float[] {v / 2, 0}));
    }

    @Test
    void savedCheckpointsReadBackAndTheNewestCommittedIsLatest() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.resolve("run").toUri().toString(), new Configuration());
        assertTrue(store.latestStep().isEmpty());
        for (long step : new long[] {10, 20, 30}) {
            store.save(state(step), tensors(step));
        }
        assertEquals(List.of(10L, 20L, 30L), store.committedSteps());
        assertEquals(30, store.latestStep().getAsLong());
        TrainingState s = store.readState(20);
        assertEquals(state(20), s);
        try (SafetensorsFile f = store.openTensors(20, "model")) {
            assertArrayEquals(new float[] {20, -20}, f.readFloat32("w"));
        }
        assertTrue(Files.exists(dir.resolve("run/step-000000020/_COMMITTED")));
        assertThrows(CheckpointException.class, () -> store.save(state(30), tensors(0)));
    }

    @Test
    void aCrashMidWriteLeavesThePreviousCheckpointLatest() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration());
        store.save(state(10), tensors(1));
        // A writer that died after the tensors, before the marker.
        Path partial = dir.resolve("step-000000020");
        Files.createDirectories(partial);
        Files.write(partial.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertEquals(10, store.latestStep().getAsLong());
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.readState(20));
        assertTrue(e.getMessage().contains("step-000000020") && e.getMessage().contains("never committed"), e.getMessage());
        // Retrying the same step replaces the leftover.
        store.save(state(20), tensors(2));
        assertEquals(20, store.latestStep().getAsLong());
    }

    @Test
    void aDamagedFileMakesItsCheckpointInvisible() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration());
        store.save(state(10), tensors(1));
        store.save(state(20), tensors(2));
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("step-000000020/ema.safetensors").toFile(), "rw")) {
            f.setLength(f.length() - 4);
        }
        assertEquals(10, store.latestStep().getAsLong());
    }

    @Test
    void pruneKeepsTheNewestK() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration());
        for (long step = 1; step <= 5; step++) {
            store.save(state(step), tensors(step));
        }
        Files.createDirectories(dir.resolve("step-000000003x")); // not ours: untouched
        store.prune(2);
        assertEquals(List.of(4L, 5L), store.committedSteps());
        assertTrue(Files.exists(dir.resolve("step-000000003x")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.prune(0));
        assertTrue(e.getMessage().startsWith("keep_last:"));
    }

    private static void flipByte(Path file, int fromEnd) throws Exception {
        byte[] b = Files.readAllBytes(file);
        b[b.length - fromEnd] ^= 0x40;
        Files.write(file, b);
    }

    @Test
    void aFlippedByteIsFoundByTheMarkersChecksumWithoutHadoopCrcFiles() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration());
        store.save(state(10), tensors(1));
        store.save(state(20), tensors(2));
        try (var crcs = Files.walk(dir)) { // as on S3, or after a copy that skipped dot files
            crcs.filter(p -> p.getFileName().toString().endsWith(".crc")).forEach(p -> p.toFile().delete());
        }
        Path model = dir.resolve("step-000000020/model.safetensors");
        flipByte(model, 2);
        assertEquals(20, store.latestStep().getAsLong()); // sizes match: only the checksum tells
        assertEquals(10, store.latestIntactStep().getAsLong());
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.verify(20));
        assertEquals("checkpoint " + store.location(20) + " is damaged: checksum mismatch in " + store.location(20)
                + "/model.safetensors (the file was altered or corrupted)", e.getMessage());
        store.verify(10);
    }

    @Test
    void aWrongHadoopCrcIsReportedInWords() throws Exception {
        CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration());
        store.save(state(10), tensors(1));
        store.save(state(20), tensors(2));
        assertTrue(Files.exists(dir.resolve("step-000000020/.state.json.crc")));
        flipByte(dir.resolve("step-000000020/state.json"), 5);
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.readState(20));
        assertEquals("checksum mismatch in " + store.location(20) + "/state.json (the file was altered or corrupted)",
                e.getMessage());
        assertEquals(10, store.latestIntactStep().getAsLong());
        flipByte(dir.resolve("step-000000020/ema.safetensors"), 1);
        e = assertThrows(CheckpointException.class, () -> store.openTensors(20, "ema").readFloat32("w"));
        assertTrue(e.getMessage().startsWith("checksum mismatch in " + store.location(20) + "/ema.safetensors"), e.getMessage());
    }

    @Test
    void checkpointsOfAnotherRunAreNeverPruned() throws Exception {
        CheckpointStore old = CheckpointStore.open(dir.toString(), new Configuration());
        old.claimRun("old-run", false);
        old.save(state(10), tensors(1));
        old.save(state(12), tensors(1));
        CheckpointStore other = CheckpointStore.open(dir.toString(), new Configuration());
        other.claimRun("new-run", false);
        for (long step = 2; step <= 6; step += 2) {
            other.save(state(step), tensors(2));
            other.prune(2);
        }
        assertEquals(List.of(4L, 6L, 10L, 12L), other.committedSteps());
        assertEquals("old-run", other.runIdOf(12));
        assertEquals("new-run", other.runIdOf(6));
    }

    @Test
    void aFullStoreFailsInOneLineAndThePreviousCheckpointStaysNewest() throws Exception {
        // A file system that fails like a full disk past a byte limit (where a tmpfs cannot be mounted; see below).
        Configuration conf = new Configuration();
        conf.setClass("fs.fullfs.impl", FullFileSystem.class, org.apache.hadoop.fs.FileSystem.class);
        conf.setBoolean("fs.fullfs.impl.disable.cache", true);
        FullFileSystem.limit.set(1 << 20);
        CheckpointStore store = CheckpointStore.open("fullfs://" + dir.resolve("full"), conf);
        store.save(state(10), tensors(1));
        FullFileSystem.limit.set(100); // room for the first tensor file only
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.save(state(20), tensors(2)));
        assertTrue(e.getMessage().matches("checkpoint step-000000020: the store fullfs:/.*/full is full \\(No space left on "
                + "device\\) while writing [a-z]+\\.safetensors; nothing of it was committed and step-000000010 stays the "
                + "newest checkpoint\\. Free space there or set checkpoint\\.uri elsewhere, then run the same command to "
                + "resume"), e.getMessage());
        assertEquals(List.of(10L), store.committedSteps());
        assertTrue(Files.notExists(dir.resolve("full/step-000000020")), "the partial checkpoint is removed");
    }

    @Test
    void aRealFullDiskFailsTheSameWay() throws Exception {
        // A 64 kB tmpfs: needs root (CAP_SYS_ADMIN); skipped where mounting is not allowed.
        Path mnt = Files.createDirectories(dir.resolve("tmpfs"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a tmpfs here");
        try {
            CheckpointStore store = CheckpointStore.open(mnt.toString(), new Configuration());
            store.save(state(10), Map.of("model", big(4_000)));
            CheckpointException e = assertThrows(CheckpointException.class, () -> store.save(state(20),
                    Map.of("model", big(20_000))));
            assertTrue(e.getMessage().startsWith("checkpoint step-000000020: the store file:" + mnt + " is full (No space "
                    + "left on device) while writing model.safetensors; nothing of it was committed and step-000000010 "
                    + "stays the newest checkpoint"), e.getMessage());
            assertEquals(List.of(10L), store.committedSteps());
            store.verify(10);
        } finally {
            // lazy: Hadoop's ChecksumFileSystem leaves the failed write's streams open until the GC closes them
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
        }
    }

    private static SafetensorsWriter big(int floats) {
        float[] v = new float[floats];
        java.util.Arrays.fill(v, 0.5f);
        return new SafetensorsWriter().add("w", TensorDType.F32, new long[] {floats}, v);
    }

    /** The local file system, failing every write with the JDK's "No space left on device" past a byte limit. */
    public static final class FullFileSystem extends org.apache.hadoop.fs.RawLocalFileSystem {
        static final java.util.concurrent.atomic.AtomicLong limit = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public java.net.URI getUri() {
            return java.net.URI.create("fullfs:///");
        }

        @Override
        public String getScheme() {
            return "fullfs";
        }

        @Override
        protected java.io.OutputStream createOutputStreamWithMode(org.apache.hadoop.fs.Path f, boolean append,
                org.apache.hadoop.fs.permission.FsPermission permission) throws java.io.IOException {
            return new java.io.FilterOutputStream(super.createOutputStreamWithMode(f, append, permission)) {
                @Override
                public void write(byte[] b, int off, int len) throws java.io.IOException {
                    if (limit.addAndGet(-len) < 0) {
                        throw new java.io.IOException("No space left on device");
                    }
                    out.write(b, off, len);
                }

                @Override
                public void write(int b) throws java.io.IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }
            };
        }
    }
}
