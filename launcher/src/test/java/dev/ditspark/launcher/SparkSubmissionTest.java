package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where dit train --master finds the job jar and its libraries: an installed layout or a build tree. */
class SparkSubmissionTest {

    @TempDir
    Path home;

    private void layout(String jar, String lib) throws Exception {
        Files.createDirectories(home.resolve(jar).getParent());
        Files.writeString(home.resolve(jar), "jar");
        Files.createDirectories(home.resolve(lib));
        Files.writeString(home.resolve(lib).resolve("b.jar"), "b");
        Files.writeString(home.resolve(lib).resolve("a.jar"), "a");
        Files.writeString(home.resolve(lib).resolve("README"), "not a jar");
    }

    @Test
    void aBuildTreeIsFound() throws Exception {
        layout("spark-job/target/dit-spark-job.jar", "spark-job/target/job-lib");
        SparkSubmission s = new SparkSubmission(home);
        assertEquals(home.resolve("spark-job/target/dit-spark-job.jar"), s.jobJar());
        assertEquals(List.of(home.resolve("spark-job/target/job-lib/a.jar"), home.resolve("spark-job/target/job-lib/b.jar")),
                s.jobLibraries());
    }

    @Test
    void anInstalledLayoutIsFoundFirst() throws Exception {
        layout("spark-job/target/dit-spark-job.jar", "spark-job/target/job-lib");
        layout("jars/dit-spark-job.jar", "jars/lib"); // as the image's /opt/dit
        SparkSubmission s = new SparkSubmission(home);
        assertEquals(home.resolve("jars/dit-spark-job.jar"), s.jobJar());
        assertEquals(List.of(home.resolve("jars/lib/a.jar"), home.resolve("jars/lib/b.jar")), s.jobLibraries());
    }

    @Test
    void neitherLayoutIsOneLineNamingBoth() throws Exception {
        Files.createDirectories(home.resolve("spark-job/target/job-lib")); // libraries without the jar: incomplete
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SparkSubmission(home).jobJar());
        assertTrue(e.getMessage().startsWith("--master: no training job jar with its libraries under " + home), e.getMessage());
        assertTrue(e.getMessage().contains(home.resolve("jars/dit-spark-job.jar") + " with " + home.resolve("jars/lib")),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("build them with: mvn -pl spark-job -am package -DskipTests"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
