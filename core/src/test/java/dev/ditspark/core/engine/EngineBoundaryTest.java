package dev.ditspark.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code engine/} is the only package that touches DJL's engine internals, as DJL's own api module has no engine
 * imports (issue 14, item 3; docs/architecture.md). ArchUnit is not available offline, so this reads the main sources
 * of every module: outside {@code dev/ditspark/core/engine/} and the one bridge class in DJL's package, no code line
 * may name {@code ai.djl.pytorch.*} (imports or qualified names), call {@code getNDArrayInternal}, or use DJL's
 * JVM-global {@code GradientCollector} (training records with {@link GradientTape}).
 */
class EngineBoundaryTest {
    private static final Pattern FORBIDDEN =
            Pattern.compile("\\bai\\.djl\\.pytorch\\.|\\bgetNDArrayInternal\\b|\\bGradientCollector\\b");
    private static final String ENGINE = "dev/ditspark/core/engine/";
    private static final String BRIDGE = "ai/djl/pytorch/jni/EngineBridge.java";

    @Test
    void onlyEngineTouchesDjlInternals() throws IOException {
        List<Path> roots = mainSourceRoots();
        assertTrue(roots.size() >= 4, "expected the main sources of core, spark-job, data-prep, launcher: " + roots);
        List<String> offenders = new ArrayList<>();
        int files = 0;
        for (Path root : roots) {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                    files++;
                    String rel = root.relativize(f).toString().replace('\\', '/');
                    if (rel.startsWith(ENGINE) || rel.equals(BRIDGE)) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(f);
                    for (int i = 0; i < lines.size(); i++) {
                        String code = codeOf(lines.get(i));
                        if (FORBIDDEN.matcher(code).find()) {
                            offenders.add(root.getParent().getParent().getParent().getFileName() + "/" + rel + ":"
                                    + (i + 1) + ": " + code.trim());
                        }
                    }
                }
            }
        }
        assertTrue(files > 100, "read only " + files + " source files");
        assertEquals(List.of(), offenders, "DJL internals outside engine/: move them behind an engine/ method");
    }

    @Test
    void theBridgeIsTheOnlyClassInDjlsPackages() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path root : mainSourceRoots()) {
            Path djl = root.resolve("ai/djl");
            if (Files.isDirectory(djl)) {
                try (Stream<Path> s = Files.walk(djl)) {
                    s.filter(Files::isRegularFile).forEach(p -> found.add(root.relativize(p).toString().replace('\\', '/')));
                }
            }
        }
        assertEquals(List.of(BRIDGE), found);
    }

    /** The line without a // comment, and empty for a javadoc or block-comment line. */
    private static String codeOf(String line) {
        String t = line.trim();
        if (t.startsWith("*") || t.startsWith("/*") || t.startsWith("//")) {
            return "";
        }
        int comment = line.indexOf("//");
        return comment >= 0 ? line.substring(0, comment) : line;
    }

    /** {@code <module>/src/main/java} of every module of the reactor (the test runs in core/). */
    private static List<Path> mainSourceRoots() throws IOException {
        Path project = Path.of("").toAbsolutePath().getParent();
        try (Stream<Path> modules = Files.list(project)) {
            return modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).sorted().toList();
        }
    }
}
