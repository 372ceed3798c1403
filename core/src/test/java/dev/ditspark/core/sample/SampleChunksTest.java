package dev.ditspark.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunk store behind a resumable {@code dit sample}: reuse within a request, a fresh start for another. */
class SampleChunksTest {

    private static SampleImages images(int n, float value, long label) {
        float[] px = new float[n * 3 * 2 * 2];
        java.util.Arrays.fill(px, value);
        long[] labels = new long[n];
        java.util.Arrays.fill(labels, label);
        return SampleImages.fromPixels(px, n, 3, 2, 2).withLabels(labels);
    }

    @Test
    void chunksOfTheSameRequestAreReusedAndAnotherRequestStartsAfresh(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        SampleChunks a = SampleChunks.open(dir.resolve("chunks"), "{\"seed\": 1}", log::add);
        a.write(0, images(2, 0.5f, 3));
        assertTrue(a.read(2, 2).isEmpty());

        SampleChunks again = SampleChunks.open(dir.resolve("chunks"), "{\"seed\": 1}", log::add);
        SampleImages back = again.read(0, 2).orElseThrow();
        assertEquals(images(2, 0.5f, 3).pixel(1, 1, 1, 2), back.pixel(1, 1, 1, 2));
        assertArrayEquals(new long[] {3, 3}, back.labels().orElseThrow());
        assertTrue(again.read(0, 3).isEmpty(), "another layout of the same samples is not this chunk");
        assertTrue(log.isEmpty(), log.toString());

        SampleChunks other = SampleChunks.open(dir.resolve("chunks"), "{\"seed\": 2}", log::add);
        assertTrue(other.read(0, 2).isEmpty());
        assertEquals(1, log.size());
        assertTrue(log.get(0).contains("belong to another request"), log.toString());

        // A truncated chunk (a crash without the atomic rename cannot make one, a copy can) is sampled again.
        other.write(0, images(2, 0.1f, 1));
        Path f = dir.resolve("chunks").resolve(SampleChunks.name(0, 2));
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 20));
        assertTrue(other.read(0, 2).isEmpty());
        assertFalse(Files.exists(f));

        other.delete();
        assertFalse(Files.exists(dir.resolve("chunks")));
    }

    @Test
    void theSameSamplesGiveTheSameNpzBytesAndTheUmasksMode(@TempDir Path dir) throws Exception {
        images(3, 0.2f, 1).writeNpz(dir.resolve("a.npz"));
        Thread.sleep(2100); // zip entry times have 2 s resolution; the bytes must not depend on the clock
        images(3, 0.2f, 1).writeNpz(dir.resolve("b.npz"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.npz")), Files.readAllBytes(dir.resolve("b.npz")));
        var perms = Files.getPosixFilePermissions(dir.resolve("a.npz"));
        assertTrue(perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ),
                "written with the umask's mode, not a temp file's 0600: " + perms);
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temporary left behind");
        }
    }
}
