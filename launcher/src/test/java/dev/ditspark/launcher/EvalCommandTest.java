package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 16: {@code dit eval} without --classifier, run where the demo ran, uses the demo's cached
 * classifier (runs/demo/classifier/) instead of training another. Run as its own process in that directory.
 */
@Tag("e2e")
class EvalCommandTest {

    @Test
    void withoutClassifierTheDemosCachedOneIsUsed(@TempDir Path cwd) throws Exception {
        Path cached = cwd.resolve("runs/demo/classifier").resolve(FashionClassifier.CACHE_FILE);
        try (NDManager m = TorchEngine.newManager()) {
            FashionClassifier.loadOrTrain(cached, FashionMnist.installed(),
                    new FashionClassifier.Training(3, 16, 2e-3, 0), m, line -> { });
        }
        float[] px = new float[4 * 28 * 28];
        Random r = new Random(0);
        for (int i = 0; i < px.length; i++) {
            px[i] = r.nextFloat() * 2 - 1;
        }
        SampleImages.fromPixels(px, 4, 1, 28, 28).withLabels(new long[] {0, 1, 2, 3}).writeNpz(cwd.resolve("s.npz"));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true",
                DitCommand.class.getName(), "eval", "--samples", "s.npz", "--threads", "1");
        Path log = cwd.resolve("eval.log");
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("classifier: loaded runs/demo/classifier/" + FashionClassifier.CACHE_FILE), out);
        assertFalse(out.contains("classifier: training"), out);
        assertFalse(Files.exists(cwd.resolve("runs/classifier")), "no second classifier trained");
        assertTrue(out.contains("of 4 samples classified"), out);
    }
}
