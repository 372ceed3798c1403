package dev.ditspark.core.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepTimingsTest {

    /** The parseable line: median wall, mean CPU, and the JIT part per timed step. */
    @Test
    void lineHasMedianWallMeanCpuAndJitPerStep() {
        StepTimings t = new StepTimings(new double[] {0.3, 0.1, 0.2, 0.4}, new double[] {0.2, 0.2, 0.3, 0.3}, 0.04);
        Map<String, String> kv = parse(t.line("step", "model=demo.yaml", "batch=64"));
        assertEquals("step", kv.get("case"));
        assertEquals("demo.yaml", kv.get("model"));
        assertEquals("4", kv.get("steps"));
        assertEquals(0.25, Double.parseDouble(kv.get("wall_s")), 1e-9);
        assertEquals(0.25, Double.parseDouble(kv.get("cpu_s")), 1e-9);
        assertEquals(0.01, Double.parseDouble(kv.get("jit_s")), 1e-9);
        assertFalse(new StepTimings(new double[] {1}, new double[] {1}, Double.NaN).line("step").contains("jit_s"),
                "an unknown JIT time is left out, not printed as NaN");
    }

    /**
     * The JIT compiler threads of this JVM are found and read (Linux), and the clock's window reading is taken:
     * this test JVM has compiled code on C1/C2 threads before it runs, and a busy loop makes it compile more.
     */
    @Test
    void jitCpuIsReadFromTheCompilerThreads() {
        double before = StepTimings.jitCpuSeconds();
        assertTrue(Double.isFinite(before) && before > 0, "JIT CPU seconds of this JVM: " + before);
        StepTimings.Clock clock = new StepTimings.Clock(1, 2);
        for (int i = 0; i < 3; i++) {
            busyWork(i);
            clock.mark();
        }
        StepTimings t = clock.timings();
        assertEquals(2, t.steps());
        assertTrue(Double.isFinite(t.jitSeconds()) && t.jitSeconds() >= 0, "window JIT seconds " + t.jitSeconds());
    }

    private static Map<String, String> parse(String line) {
        assertTrue(line.startsWith("result "), line);
        Map<String, String> kv = new HashMap<>();
        for (String p : line.substring("result ".length()).split(" ")) {
            String[] f = p.split("=", 2);
            kv.put(f[0], f[1]);
        }
        return kv;
    }

    private static long busyWork(int seed) {
        long x = seed;
        for (int i = 0; i < 2_000_000; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L ^ (x >>> 17);
        }
        return x;
    }
}
