package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/gpu-check.sh's own errors, each one line naming what is wrong (the bundle build and the run on a machine
 * without a GPU are in docs/gpu.md; GpuCheckTest checks the Java side's no-GPU message).
 */
class GpuCheckScriptTest {
    private static final Path SCRIPT = RepoFiles.root().resolve("tools/gpu-check.sh");

    @TempDir
    Path dir;

    private record Run(int code, String err) { }

    private static Run run(Path script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gpu-check.sh hangs");
        return new Run(p.exitValue(), err);
    }

    @Test
    void isExecutable() {
        assertTrue(Files.isExecutable(SCRIPT));
    }

    @Test
    void outsideABundleItSaysHowToMakeOne() throws Exception {
        Run r = run(SCRIPT);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("gpu-check.sh: no bundle next to this script"), r.err());
        assertTrue(r.err().contains("tools/gpu-check.sh --build"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void aLibtorchWithoutCudaIsNamed() throws Exception {
        Path notCuda = Files.createDirectories(dir.resolve("libtorch/lib"));
        Files.writeString(notCuda.resolve("libtorch_cpu.so"), "");
        Run r = run(SCRIPT, "--libtorch", dir.resolve("libtorch").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("gpu-check.sh: --libtorch " + dir.resolve("libtorch") + ": no lib/libtorch_cuda.so there (a CUDA"
                + " libtorch 2.7.1 directory)", r.err().strip());
        Run build = run(SCRIPT, "--build", "--libtorch", dir.resolve("libtorch").toString());
        assertEquals(2, build.code(), build.err());
        assertTrue(build.err().startsWith("gpu-check.sh: --libtorch "), build.err());
    }

    @Test
    void unknownOptionsAreNamed() throws Exception {
        Run r = run(SCRIPT, "--batch", "8");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("gpu-check.sh: unknown option --batch (--build, --libtorch DIR, -- GpuCheck options)"),
                r.err());
        Run b = run(SCRIPT, "--build", "--jre", "x");
        assertEquals(2, b.code());
        assertTrue(b.err().startsWith("gpu-check.sh: --build: unknown option --jre"), b.err());
    }
}
