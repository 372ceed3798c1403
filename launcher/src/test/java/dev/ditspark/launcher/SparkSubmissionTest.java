package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where dit train/sample/eval --master find the job jar and its libraries (the -Ddit.job.* properties bin/dit sets,
 * an installed layout or a build tree), and the spark-submit settings the three commands share.
 */
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

    @Test
    void theJobPropertiesWinOverEveryLayout() throws Exception {
        layout("jars/dit-spark-job.jar", "jars/lib");
        layout("elsewhere/job.jar", "elsewhere/libs");
        SparkSubmission.JobArtifacts a = SparkSubmission.locate(home, home.resolve("elsewhere/job.jar").toString(),
                home.resolve("elsewhere/libs").toString());
        assertEquals(home.resolve("elsewhere/job.jar"), a.jobJar());
        assertEquals(home.resolve("elsewhere/libs"), a.libraries());
    }

    @Test
    void badJobPropertiesAreOneLineNamingThem() throws Exception {
        layout("spark-job/target/dit-spark-job.jar", "spark-job/target/job-lib"); // not a fallback for a wrong property
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> SparkSubmission.locate(home, home.resolve("spark-job/target/dit-spark-job.jar").toString(), null));
        assertEquals("--master: -Ddit.job.jar and -Ddit.job.lib go together, only dit.job.jar is set", half.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> SparkSubmission.locate(home, home.resolve("no.jar").toString(), home.resolve("nolib").toString()));
        assertEquals("--master: no training job jar with its libraries at " + home.resolve("no.jar") + " with "
                + home.resolve("nolib") + " (-Ddit.job.jar, -Ddit.job.lib); build them with: mvn -pl spark-job -am "
                + "package -DskipTests", missing.getMessage());
    }

    @Test
    void submitSettingsWithoutMasterAreRefusedAndTheirHadoopSettingsReachTheDriver() {
        assertEquals("--conf: only with --master (the embedded Spark of --workers is set up here)",
                assertThrows(IllegalArgumentException.class, () -> new SparkSubmission.Options(null, "client",
                        java.util.Map.of("spark.executor.cores", "2"), null).check()).getMessage());
        assertEquals("--properties-file: only with --master (the embedded Spark of --workers is set up here)",
                assertThrows(IllegalArgumentException.class, () -> new SparkSubmission.Options(null, "client",
                        java.util.Map.of(), home.resolve("p.conf")).check()).getMessage());
        assertEquals("--deploy-mode: client or cluster, got both", assertThrows(IllegalArgumentException.class,
                () -> new SparkSubmission.Options("yarn", "both", java.util.Map.of(), null).check()).getMessage());
        SparkSubmission.Options o = new SparkSubmission.Options("spark://h:7077", "cluster",
                java.util.Map.of("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000", "spark.executor.cores", "2"), null);
        o.check();
        assertEquals("http://127.0.0.1:9000", o.hadoop().get("fs.s3a.endpoint"));
        assertEquals(null, o.hadoop().get("executor.cores"));
    }

    @Test
    void trainRefusesConfWithoutMasterAsSampleAndEvalDo() throws Exception {
        Path yaml = Files.writeString(home.resolve("run.yaml"), "model: {name: DiT-S/2}\n");
        DitRun r = DitRun.of("train", "--config", yaml.toString(), "--conf", "spark.executor.cores=2");
        assertEquals(2, r.code(), r.all());
        assertEquals("dit: --conf: only with --master (the embedded Spark of --workers is set up here)", r.err().strip(),
                r.all());
    }
}
