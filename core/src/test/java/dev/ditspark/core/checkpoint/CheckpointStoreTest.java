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
}
