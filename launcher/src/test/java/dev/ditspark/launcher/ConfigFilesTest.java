package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.TrainSpec;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.model.ModelSummary;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** conf/: every run config loads and builds its model; the published ones are the paper's; spark-defaults is sane. */
class ConfigFilesTest {

    private static final Path CONF = RepoFiles.root().resolve("conf");

    /** docs/model.md's parameter counts at 256 px (pos_embed included); at 512 px pos_embed has 1024 instead of 256 rows. */
    private static final Map<String, Long> PARAMETERS = new LinkedHashMap<>();

    static {
        PARAMETERS.put("DiT-S/2@256", 32_963_360L);
        PARAMETERS.put("DiT-S/4@256", 32_945_024L);
        PARAMETERS.put("DiT-S/8@256", 33_148_160L);
        PARAMETERS.put("DiT-B/2@256", 130_512_416L);
        PARAMETERS.put("DiT-B/4@256", 130_475_648L);
        PARAMETERS.put("DiT-B/8@256", 130_881_536L);
        PARAMETERS.put("DiT-L/2@256", 458_102_816L);
        PARAMETERS.put("DiT-L/4@256", 458_053_760L);
        PARAMETERS.put("DiT-L/8@256", 458_594_816L);
        PARAMETERS.put("DiT-XL/2@256", 675_129_632L);
        PARAMETERS.put("DiT-XL/4@256", 675_074_432L);
        PARAMETERS.put("DiT-XL/8@256", 675_683_072L);
        PARAMETERS.put("DiT-XL/2@512", 675_129_632L + (1024 - 256) * 1152L);
    }

    private static List<Path> yamlFiles() throws IOException {
        try (Stream<Path> files = Files.list(CONF)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    /** conf/dit-xl-2-256.yaml for DiT-XL/2 at 256 px. */
    private static Path fileFor(String model, int imageSize) {
        return CONF.resolve(model.toLowerCase(Locale.ROOT).replace('/', '-') + "-" + imageSize + ".yaml");
    }

    @Test
    void everyConfigLoadsAndBuildsItsModel() throws IOException {
        List<Path> files = yamlFiles();
        assertTrue(files.size() >= PARAMETERS.size() + 1, "configs in " + CONF + ": " + files);
        for (Path file : files) {
            RunConfig run = RunConfig.load(file, List.of());
            DiTConfig model = run.model().toDiTConfig();
            assertTrue(model.numPatches() > 0, file.toString());
        }
    }

    @Test
    void publishedModelsHaveTheSpecParameterCounts() {
        for (Map.Entry<String, Long> e : PARAMETERS.entrySet()) {
            String name = e.getKey().substring(0, e.getKey().indexOf('@'));
            int imageSize = Integer.parseInt(e.getKey().substring(e.getKey().indexOf('@') + 1));
            Path file = fileFor(name, imageSize);
            assertTrue(Files.isRegularFile(file), "missing " + file);
            RunConfig run = RunConfig.load(file, List.of());
            assertEquals(name, run.model().name(), file.toString());
            assertEquals(imageSize, run.model().imageSize(), file.toString());
            DiTConfig model = run.model().toDiTConfig();
            assertEquals(imageSize / 8, model.inputSize(), file.toString());
            assertEquals(e.getValue(), ModelSummary.of(model).parameters(), file + " parameters");
        }
    }

    @Test
    void publishedModelsFollowThePaperRecipe() {
        for (String key : PARAMETERS.keySet()) {
            String name = key.substring(0, key.indexOf('@'));
            int imageSize = Integer.parseInt(key.substring(key.indexOf('@') + 1));
            Path file = fileFor(name, imageSize);
            RunConfig run = RunConfig.load(file, List.of());
            TrainSpec t = run.train();
            String where = file.getFileName().toString();
            assertEquals(256, t.globalBatch(), where);
            assertEquals(400_000L, t.maxSteps(), where);
            assertEquals(1e-4, t.lr(), where);
            assertEquals(0.0, t.weightDecay(), where);
            assertEquals(0.9, t.beta1(), where);
            assertEquals(0.999, t.beta2(), where);
            assertEquals(1e-8, t.eps(), where);
            assertEquals(0.9999, t.emaDecay(), where);
            assertFalse(t.emaWarmup(), where + ": the paper's constant EMA decay");
            assertTrue(t.horizontalFlip(), where + ": the paper's random horizontal flip");
            assertEquals(TrainSpec.CONSTANT, t.lrSchedule(), where + ": the paper's constant learning rate");
            assertEquals(0L, t.lrWarmup(), where + ": no warm-up in the paper");
            assertEquals(8, t.workers(), where);
            assertEquals(50_000, run.checkpoint().every(), where);
            assertEquals("nccl", run.collective().backend(), where);
            assertEquals(1000, run.model().numClasses(), where);
            assertEquals(4, run.model().inChannels(), where);
            assertEquals(0.1, run.model().classDropoutProb(), where);
            assertTrue(run.model().learnSigma(), where);
            // Placeholders the user must override; a run's checkpoints never share a directory with another model's.
            String runName = where.substring(0, where.length() - ".yaml".length());
            assertEquals("s3a://CHANGE-ME/runs/" + runName, run.checkpoint().uri(), where);
            assertEquals("s3a://CHANGE-ME/imagenet-" + imageSize + "-latents", run.data().uri(), where);
        }
    }

    /**
     * The demo departs from the paper in documented ways: no horizontal flip (Fashion-MNIST's shoes all face
     * left; mirrored ankle boots are what the classifier calls bags), an EMA warm-up for its short runs, and a
     * cosine learning-rate decay; it trains on two one-thread workers (docs/demo.md).
     */
    @Test
    void demoTrainsWithoutFlipAndWithEmaWarmup() {
        TrainSpec t = RunConfig.load(CONF.resolve("demo.yaml"), List.of()).train();
        assertFalse(t.horizontalFlip(), "demo.yaml train.horizontal_flip");
        assertTrue(t.emaWarmup(), "demo.yaml train.ema_warmup");
        assertEquals(TrainSpec.COSINE, t.lrSchedule(), "demo.yaml train.lr_schedule");
        assertEquals(2, t.workers(), "demo.yaml train.workers");
        assertEquals(1, t.threads(), "demo.yaml train.threads");
        TrainSpec paper = RunConfig.load(CONF.resolve("demo.yaml"),
                List.of("train.horizontal_flip=true", "train.ema_warmup=false")).train();
        assertTrue(paper.horizontalFlip());
        assertFalse(paper.emaWarmup());
    }

    @Test
    void placeholdersAreOverriddenFromTheCommandLine() {
        RunConfig run = RunConfig.load(fileFor("DiT-XL/2", 256), List.of(
                "data.uri=hdfs://nn:8020/imagenet-256", "checkpoint.uri=s3a://bucket/runs/xl2", "train.workers=16"));
        assertEquals("hdfs://nn:8020/imagenet-256", run.data().uri());
        assertEquals("s3a://bucket/runs/xl2", run.checkpoint().uri());
        assertEquals(16, run.train().perWorkerBatch());
    }

    // ----- spark-defaults.conf

    private static Properties sparkDefaults() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(CONF.resolve("spark-defaults.conf"), StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return p;
    }

    @Test
    void sparkDefaultsGiveEachExecutorAGpuNodeAndOneTaskPerGpu() throws IOException {
        Properties p = sparkDefaults();
        int gpus = Integer.parseInt(p.getProperty("spark.executor.resource.gpu.amount"));
        assertEquals(8, gpus, "one executor per 8-GPU node");
        assertEquals("1", p.getProperty("spark.task.resource.gpu.amount"));
        assertEquals("nvidia.com", p.getProperty("spark.executor.resource.gpu.vendor"));
        int cores = Integer.parseInt(p.getProperty("spark.executor.cores"));
        int taskCpus = Integer.parseInt(p.getProperty("spark.task.cpus"));
        assertTrue(taskCpus > 0, "task.cpus " + taskCpus);
        assertEquals(gpus * taskCpus, cores, "executor.cores must be GPUs x task.cpus: one task per GPU, never more");
        assertEquals("false", p.getProperty("spark.dynamicAllocation.enabled"), "barrier stages need static allocation");
        assertTrue(p.getProperty("spark.scheduler.barrier.maxConcurrentTasksCheck.interval").matches("\\d+s"));
        assertTrue(Integer.parseInt(p.getProperty("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures")) > 0);
        // The discovery script is conf/gpu-discovery.sh as installed in the image (/opt/dit/conf).
        assertEquals("/opt/dit/conf/gpu-discovery.sh", p.getProperty("spark.executor.resource.gpu.discoveryScript"));
        assertTrue(Files.isExecutable(CONF.resolve("gpu-discovery.sh")), "conf/gpu-discovery.sh must be executable");
        for (String side : List.of("driver", "executor")) {
            String opts = p.getProperty("spark." + side + ".extraJavaOptions");
            assertTrue(opts.contains("-Dai.djl.offline=true"), side + ": " + opts);
            assertTrue(opts.contains("-Dlog4j2.configurationFile=/opt/dit/conf/log4j2.xml"), side + ": " + opts);
            assertEquals("/opt/dit/jars/lib/*", p.getProperty("spark." + side + ".extraClassPath"), side);
        }
        assertTrue(Files.isRegularFile(CONF.resolve("log4j2.xml")));
    }

    @Test
    void sparkDefaultsAreWrittenOnceEachAndHoldNoCredentials() throws IOException {
        Set<String> seen = new HashSet<>();
        for (String line : Files.readAllLines(CONF.resolve("spark-defaults.conf"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            assertEquals(line.strip(), line, "stray whitespace: '" + line + "'");
            String key = line.split("\\s+", 2)[0];
            assertTrue(key.startsWith("spark."), key);
            assertTrue(seen.add(key), "set twice: " + key);
            assertTrue(line.split("\\s+", 2).length == 2, "no value: " + key);
            assertFalse(key.matches("(?i).*(access\\.key|secret\\.key|session\\.token|password|secret).*"),
                    "credentials belong in a Secret or a provider, not in spark-defaults: " + key);
        }
        String providers = sparkDefaults().getProperty("spark.hadoop.fs.s3a.aws.credentials.provider");
        assertTrue(providers.contains("EnvironmentVariableCredentialsProvider"), providers);
        for (String provider : providers.split(",")) {
            assertTrue(provider.matches("([a-z][a-z0-9]*\\.)+[A-Z]\\w*"), "not a class name: '" + provider + "'");
        }
    }

    @Test
    void credentialProvidersExistInTheS3aVersionWeShip() throws IOException {
        assertTrue(isLoadable("org.apache.hadoop.fs.s3a.S3AFileSystem"), "hadoop-aws is on the class path (spark-job)");
        for (String provider : sparkDefaults().getProperty("spark.hadoop.fs.s3a.aws.credentials.provider").split(",")) {
            assertTrue(isLoadable(provider), provider);
        }
    }

    private static boolean isLoadable(String className) {
        try {
            Class.forName(className, false, ConfigFilesTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    // ----- gpu-discovery.sh (Spark's resource discovery protocol: one JSON ResourceInformation on stdout)

    private record Run(int code, String out, String err) { }

    private static Run discover(Path fakeBin, String nvidiaSmiScript) throws IOException, InterruptedException {
        Path smi = fakeBin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n" + nvidiaSmiScript + "\n");
        assertTrue(smi.toFile().setExecutable(true));
        ProcessBuilder pb = new ProcessBuilder("bash", CONF.resolve("gpu-discovery.sh").toString());
        pb.environment().put("PATH", fakeBin + ":/usr/bin:/bin");
        Path out = fakeBin.resolve("out");
        Path err = fakeBin.resolve("err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("gpu-discovery.sh hangs");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void discoveryScriptListsTheGpusNvidiaSmiSees(@TempDir Path bin) throws Exception {
        // What `nvidia-smi --query-gpu=index --format=csv,noheader` prints on a 4-GPU node.
        Run r = discover(bin, "[ \"$1\" = --query-gpu=index ] && [ \"$2\" = --format=csv,noheader ] || exit 2\n"
                + "printf '0\\n1\\n2\\n3\\n'");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals("gpu", json.get("name").asText());
        List<String> addresses = new ArrayList<>();
        json.get("addresses").forEach(a -> addresses.add(a.asText()));
        assertEquals(List.of("0", "1", "2", "3"), addresses);
        assertEquals(Set.of("name", "addresses"), fieldNames(json));
    }

    @Test
    void discoveryScriptFailsWithoutAGpu(@TempDir Path bin) throws Exception {
        Run noDriver = discover(bin, "echo 'NVIDIA-SMI has failed because it could not communicate with the driver' >&2; exit 9");
        assertNotEquals(0, noDriver.code());
        assertTrue(noDriver.err().contains("nvidia-smi failed"), noDriver.err());
        assertTrue(noDriver.out().isEmpty(), noDriver.out());

        Run none = discover(bin, "exit 0");
        assertNotEquals(0, none.code());
        assertTrue(none.err().contains("no GPU"), none.err());

        Run garbage = discover(bin, "echo 'No devices were found'");
        assertNotEquals(0, garbage.code());
        assertTrue(garbage.err().contains("unexpected nvidia-smi output"), garbage.err());
        assertTrue(garbage.out().isEmpty(), garbage.out());
    }

    private static Set<String> fieldNames(JsonNode json) {
        Set<String> names = new HashSet<>();
        json.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
