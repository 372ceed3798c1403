package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 16: the first {@code bin/dit} (which builds the launcher with Maven) printed Maven's stray ANSI
 * codes. bin/dit runs here in a copy of the checkout without a built launcher, with a stand-in {@code mvn} on the
 * PATH that prints what Debian's Maven 3.8 prints (ESC[0m resets, a coloured line) and fails.
 */
class BinDitTest {

    @Test
    void theBuildStepPrintsNoEscapeCodesAndKeepsMavensExitStatus(@TempDir Path root) throws Exception {
        Path home = Path.of(System.getProperty("dit.home", ".."));
        Files.createDirectories(root.resolve("bin"));
        Files.copy(home.resolve("bin/dit"), root.resolve("bin/dit"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        Path fake = Files.createDirectories(root.resolve("fake-bin")).resolve("mvn");
        Files.writeString(fake, "#!/bin/sh\nprintf '\\033[0m\\033[0m[INFO] building\\n'\n"
                + "printf '\\033[1;31m[ERROR] it broke\\033[m\\n' >&2\nexit 7\n");
        fake.toFile().setExecutable(true);
        Path err = root.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bin/dit").toString(), "info")
                .redirectOutput(root.resolve("out.txt").toFile()).redirectError(err.toFile());
        pb.environment().put("PATH", fake.getParent() + ":" + System.getenv("PATH"));
        Process p = pb.start();
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        String printed = Files.readString(err);
        assertEquals(7, p.exitValue(), printed); // the build's failure is not hidden by the filter
        assertTrue(printed.contains("[INFO] building") && printed.contains("[ERROR] it broke"), printed);
        assertFalse(printed.contains("\u001b"), printed);
    }
}
