package dev.ditspark.core.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** On this CPU machine (CPU libtorch, no GPU) the check stops at once with one clear line and status 3. */
class GpuCheckTest {

    private record Run(int status, String err) { }

    private static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int status = GpuCheck.run(args);
            return new Run(status, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void withoutAGpuItSaysSoAndExits3() {
        Run r = run();
        assertEquals(3, r.status(), r.err());
        assertTrue(r.err().startsWith("gpu-check: no usable CUDA GPU: libtorch "), r.err());
        assertTrue(r.err().contains("cannot use cuda:0"), r.err());
    }

    @Test
    void badOptionsNameThemselves() {
        Run r = run("--batchsize", "4");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("gpu-check: unknown option --batchsize"), r.err());
        assertEquals(2, run("--steps", "0").status());
    }

    @Test
    void peaksOfTheGpusInTheTable() {
        // the NVL/PCIe variants must match before the plain names
        for (String[] p : GpuCheck.PEAKS) {
            assertEquals(4, p.length);
            assertTrue(Double.parseDouble(p[2]) > Double.parseDouble(p[1]), "bf16 above tf32: " + p[0]);
        }
        assertEquals("H200 NVL", GpuCheck.PEAKS[0][0]);
    }
}
