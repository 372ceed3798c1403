package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoCommandTest {

    @Test
    void tableListsAllTwelveConfigsWithTheSpecCounts() {
        DitRun r = DitRun.of("info");
        assertEquals(0, r.code(), r.err());
        String[] expected = {
            "DiT-S/2 32,963,360", "DiT-S/4 32,945,024", "DiT-S/8 33,148,160",
            "DiT-B/2 130,512,416", "DiT-B/4 130,475,648", "DiT-B/8 130,881,536",
            "DiT-L/2 458,102,816", "DiT-L/4 458,053,760", "DiT-L/8 458,594,816",
            "DiT-XL/2 675,129,632", "DiT-XL/4 675,074,432", "DiT-XL/8 675,683,072"};
        String squeezed = r.out().replaceAll(" +256 +", " ").replaceAll(" +", " ");
        for (String e : expected) {
            assertTrue(squeezed.contains(e), e + " in\n" + r.out());
        }
    }

    @Test
    void oneModelAt512Px() {
        DitRun r = DitRun.of("info", "--model", "DiT-XL/2", "--image-size", "512");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tokens:                         1024"), r.out());
        assertTrue(r.out().contains("forward GMACs / image:          524.54"), r.out());
    }

    @Test
    void unknownModelIsOneClearLine() {
        DitRun r = DitRun.of("info", "--model", "DiT-Q/2");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("dit: --model: unknown model 'DiT-Q/2', expected one of DiT-S/2, "), r.err());
    }

    /** Issue 12: the readers of every worker in this JVM against its -Xmx, the warning training would log. */
    @Test
    void configWhoseReadersExceedThisHeapGetsOneWarningLine() {
        long heapMb = Runtime.getRuntime().maxMemory() >> 20;
        long tooMuch = heapMb; // 2 workers x the whole heap each: twice what the heap holds
        DitRun r = DitRun.of("info", "--config", "../conf/demo.yaml", "--set", "train.workers=2", "--set",
                "train.global_batch=64", "--set", "data.memory_mb=" + tooMuch);
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("data readers (data.memory_mb):  " + String.format(java.util.Locale.ROOT, "%,d", tooMuch)
                + " MiB per worker, 2 workers in one JVM"), r.out());
        String[] err = r.err().strip().split("\n");
        assertEquals(1, err.length, r.err());
        assertTrue(err[0].startsWith("dit: warning: data.memory_mb: the data readers of 2 workers may hold " + 2 * tooMuch
                + " MiB (" + tooMuch + " MiB each) but the heap is " + heapMb + " MiB (this JVM's -Xmx, from DIT_JAVA_OPTS"), r.err());
        assertTrue(err[0].endsWith("raise the heap to at least " + (long) Math.ceil((2 * tooMuch << 20) / 0.75) / 1048576
                + " MiB"), r.err());

        DitRun fits = DitRun.of("info", "--config", "../conf/demo.yaml", "--set", "data.memory_mb=1");
        assertEquals(0, fits.code(), fits.all());
        assertEquals("", fits.err().strip());
        assertTrue(fits.out().contains("heap:                           " + String.format(java.util.Locale.ROOT, "%,d", heapMb)
                + " MiB (this JVM's -Xmx"), fits.out());
    }

    /** The shipped cluster settings hold the shipped XL/2 512 px run; a smaller executor heap does not. */
    @Test
    void executorHeapFromTheSparkDefaultsFile(@TempDir Path dir) throws IOException {
        DitRun shipped = DitRun.of("info", "--config", "../conf/dit-xl-2-512.yaml", "--properties-file",
                "../conf/spark-defaults.conf");
        assertEquals(0, shipped.code(), shipped.all());
        assertEquals("", shipped.err().strip(), shipped.all());
        assertTrue(shipped.out().contains("49,152 MiB (spark.executor.memory in ../conf/spark-defaults.conf, for 8 tasks "
                + "per executor)"), shipped.out());

        Path small = dir.resolve("spark-defaults.conf");
        // A bare number is MiB to Spark; 8 tasks of 2 GiB readers need more than 16 GiB.
        Files.writeString(small, "spark.executor.cores 64\nspark.task.cpus  8\nspark.executor.memory 16384\n");
        DitRun r = DitRun.of("info", "--config", "../conf/dit-xl-2-512.yaml", "--properties-file", small.toString());
        assertEquals(0, r.code(), r.all());
        assertEquals("dit: warning: data.memory_mb: the data readers of 8 workers may hold 16384 MiB (2048 MiB each) but "
                + "the heap is 16384 MiB (spark.executor.memory in " + small + ", for 8 tasks per executor), and training "
                + "needs some of it too; lower data.memory_mb or raise the heap to at least 21845 MiB", r.err().strip());

        Files.writeString(small, "spark.executor.memory lots\n");
        DitRun bad = DitRun.of("info", "--config", "../conf/dit-xl-2-512.yaml", "--properties-file", small.toString());
        assertEquals(2, bad.code(), bad.all());
        assertEquals("dit: --properties-file " + small + ": spark.executor.memory 'lots' is not a size such as 48g or "
                + "16384m", bad.err().strip());
    }
}
