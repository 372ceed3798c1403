package dev.ditspark.launcher.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.RunConfig;
import dev.ditspark.launcher.RepoFiles;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * k8s/: every manifest parses into typed Kubernetes objects with no unknown field, and the files agree with
 * each other, with conf/, with the Dockerfile and with the build (GPU requests, image, main class and jar,
 * arguments, secret references, service account).
 */
class K8sManifestsTest {

    private static final Path ROOT = RepoFiles.root();
    private static final Path K8S = ROOT.resolve("k8s");
    private static final String IMAGE_DIR = "/opt/dit/";
    private static final String GPU = "nvidia.com/gpu";

    private static Path k8s(String file) {
        return K8S.resolve(file);
    }

    private static List<Path> manifestFiles() throws IOException {
        try (Stream<Path> files = Files.list(K8S)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static Pod driverTemplate() {
        return Manifests.loadOne(k8s("driver-pod-template.yaml"), Pod.class);
    }

    private static Pod executorTemplate() {
        return Manifests.loadOne(k8s("executor-pod-template.yaml"), Pod.class);
    }

    private static GenericKubernetesResource application(String file) {
        return Manifests.loadOne(k8s(file), GenericKubernetesResource.class);
    }

    private static SparkApplicationSpec train() {
        return Manifests.sparkApplicationSpec(application("train-dit-xl-2-256.yaml"));
    }

    private static SparkApplicationSpec prepare() {
        return Manifests.sparkApplicationSpec(application("prepare-imagenet-256.yaml"));
    }

    private static Map<String, SparkApplicationSpec> applications() {
        Map<String, SparkApplicationSpec> apps = new LinkedHashMap<>();
        apps.put("train-dit-xl-2-256.yaml", train());
        apps.put("prepare-imagenet-256.yaml", prepare());
        return apps;
    }

    private static Secret secret() {
        return Manifests.loadOne(k8s("s3-secret.yaml"), Secret.class);
    }

    private static String text(Path file) {
        return RepoFiles.read(file);
    }

    // ----- parsing

    @Test
    void everyManifestIsATypedObjectWithNoUnknownField() throws IOException {
        Map<String, List<String>> kinds = new LinkedHashMap<>();
        for (Path file : manifestFiles()) {
            List<HasMetadata> docs = Manifests.load(file);
            assertFalse(docs.isEmpty(), file.toString());
            for (HasMetadata doc : docs) {
                String where = K8S.relativize(file) + " " + doc.getKind();
                if (doc instanceof GenericKubernetesResource app) {
                    // The one kind fabric8 has no model for: its spec is bound strictly instead.
                    assertEquals("sparkoperator.k8s.io/v1beta2", app.getApiVersion(), where);
                    assertEquals("SparkApplication", app.getKind(), where);
                    assertEquals(Set.of("spec"), app.getAdditionalProperties().keySet(), where);
                    assertEquals(List.of(), Manifests.unknownFields(app.getMetadata()), where);
                    assertEquals(List.of(), Manifests.unknownFields(Manifests.sparkApplicationSpec(app)), where);
                } else {
                    assertEquals(List.of(), Manifests.unknownFields(doc), where);
                }
                kinds.computeIfAbsent(file.getFileName().toString(), f -> new ArrayList<>())
                        .add(doc.getClass().getSimpleName());
            }
        }
        assertEquals(Map.of(
                "driver-pod-template.yaml", List.of("Pod"),
                "executor-pod-template.yaml", List.of("Pod"),
                "prepare-imagenet-256.yaml", List.of("GenericKubernetesResource"),
                "rbac.yaml", List.of("ServiceAccount", "Role", "RoleBinding"),
                "s3-secret.yaml", List.of("Secret"),
                "train-dit-xl-2-256.yaml", List.of("GenericKubernetesResource")), kinds);
    }

    @Test
    void misspelledOrMistypedFieldsAreCaught() {
        // The checks above can fail: fabric8 accepts these silently, the walk and the strict spec do not.
        Pod pod = Manifests.KUBERNETES.unmarshal("""
                apiVersion: v1
                kind: Pod
                spec:
                  tolerationz: []
                  containers:
                    - name: c
                      resources:
                        limitz: {nvidia.com/gpu: 1}
                """, Pod.class);
        assertEquals(List.of(".spec: [tolerationz]", ".spec.containers[0].resources: [limitz]"),
                Manifests.unknownFields(pod));
        assertThrows(IllegalArgumentException.class, () -> Manifests.KUBERNETES.unmarshal("""
                apiVersion: v1
                kind: Pod
                spec:
                  containers: [{name: c, ports: [{containerPort: not-a-number}]}]
                """, Pod.class));

        GenericKubernetesResource app = Manifests.KUBERNETES.unmarshal("""
                apiVersion: sparkoperator.k8s.io/v1beta2
                kind: SparkApplication
                metadata: {name: x}
                spec:
                  type: Java
                  executor: {instances: 2, gpus: {name: nvidia.com/gpu, quantity: 1}}
                """, GenericKubernetesResource.class);
        AssertionError typo = assertThrows(AssertionError.class, () -> Manifests.sparkApplicationSpec(app));
        assertTrue(typo.getMessage().contains("gpus"), typo.getMessage());

        GenericKubernetesResource unquoted = Manifests.KUBERNETES.unmarshal("""
                apiVersion: sparkoperator.k8s.io/v1beta2
                kind: SparkApplication
                metadata: {name: x}
                spec:
                  sparkConf: {spark.task.cpus: 8}
                """, GenericKubernetesResource.class);
        // sparkConf is map[string]string: the API server rejects a bare number.
        assertThrows(AssertionError.class, () -> Manifests.sparkApplicationSpec(unquoted));
    }

    // ----- GPUs, nodes, shared memory

    /**
     * One executor per GPU node owning all its GPUs, one task per GPU: the ranks of a node share a host, so NCCL
     * connects them over NVLink / P2P instead of the pod network.
     */
    @Test
    void executorsOwnAWholeGpuNodeAndRunOneTaskPerGpu() throws IOException {
        Properties defaults = sparkDefaults();
        long gpusPerNode = Long.parseLong(defaults.getProperty("spark.executor.resource.gpu.amount"));
        assertTrue(gpusPerNode >= 2, "several GPUs per executor: " + gpusPerNode);
        assertEquals("1", defaults.getProperty("spark.task.resource.gpu.amount"), "one GPU per task");
        int taskCpus = Integer.parseInt(defaults.getProperty("spark.task.cpus"));
        // CPU slots = GPU slots: executor.cores / task.cpus tasks run at once, one per GPU.
        assertEquals(gpusPerNode * taskCpus, Long.parseLong(defaults.getProperty("spark.executor.cores")));

        Pod template = executorTemplate();
        Container c = template.getSpec().getContainers().get(0);
        assertEquals("spark-kubernetes-executor", c.getName());
        assertEquals(new Quantity(String.valueOf(gpusPerNode)), c.getResources().getLimits().get(GPU));
        Map<String, Quantity> requests = c.getResources().getRequests();
        assertTrue(requests == null || requests.get(GPU) == null
                || requests.get(GPU).equals(new Quantity(String.valueOf(gpusPerNode))),
                "a GPU request must equal the limit: " + requests);
        assertTrue(toleratesGpuTaint(template.getSpec().getTolerations()), "executors must tolerate the GPU taint");
        assertEquals("true", template.getSpec().getNodeSelector().get("nvidia.com/gpu.present"));
        assertSharedMemory(template.getSpec().getVolumes(), c.getVolumeMounts(), "executor-pod-template.yaml");

        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            SparkApplicationSpec.Executor x = e.getValue().executor();
            assertEquals(new SparkApplicationSpec.Gpu(GPU, gpusPerNode), x.gpu(), e.getKey());
            assertEquals(String.valueOf(gpusPerNode), e.getValue().sparkConf().get("spark.executor.resource.gpu.amount"),
                    e.getKey());
            assertEquals(gpusPerNode * taskCpus, x.cores().longValue(), e.getKey() + ": one task per GPU");
            assertTrue(x.instances() >= 1, e.getKey());
            // What the operator's webhook puts on executor pods equals the spark-submit template.
            assertEquals(template.getSpec().getTolerations(), x.tolerations(), e.getKey());
            assertEquals(template.getSpec().getNodeSelector(), x.nodeSelector(), e.getKey());
            assertEquals(c.getEnv(), x.env(), e.getKey());
            assertSharedMemory(e.getValue().volumes(), x.volumeMounts(), e.getKey());
            assertEquals(template.getSpec().getVolumes(), e.getValue().volumes(), e.getKey());
        }
    }

    @Test
    void theDriverNeedsNoGpu() {
        Pod template = driverTemplate();
        Container c = template.getSpec().getContainers().get(0);
        assertEquals("spark-kubernetes-driver", c.getName());
        assertTrue(c.getResources() == null || c.getResources().getLimits() == null
                || !c.getResources().getLimits().containsKey(GPU));
        assertFalse(toleratesGpuTaint(template.getSpec().getTolerations()), "the driver should not take a GPU node");
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            SparkApplicationSpec.Driver d = e.getValue().driver();
            assertNull(d.gpu(), e.getKey());
            assertEquals(template.getSpec().getNodeSelector(), d.nodeSelector(), e.getKey());
            assertEquals(c.getEnv(), d.env(), e.getKey());
            assertTrue(d.cores() >= 1, e.getKey());
        }
    }

    /** Whether a pod with these tolerations may run on a node tainted nvidia.com/gpu:NoSchedule (as GPU pools are). */
    private static boolean toleratesGpuTaint(List<Toleration> tolerations) {
        return tolerations != null && tolerations.stream().anyMatch(t -> GPU.equals(t.getKey())
                && ("Exists".equals(t.getOperator()) || t.getValue() != null)
                && (t.getEffect() == null || t.getEffect().isEmpty() || "NoSchedule".equals(t.getEffect())));
    }

    private static void assertSharedMemory(List<Volume> volumes, List<VolumeMount> mounts, String where) {
        VolumeMount shm = mounts.stream().filter(m -> "/dev/shm".equals(m.getMountPath())).findFirst()
                .orElseThrow(() -> new AssertionError(where + ": no /dev/shm mount"));
        Volume v = volumes.stream().filter(vol -> vol.getName().equals(shm.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(where + ": /dev/shm mounts unknown volume " + shm.getName()));
        assertNotNull(v.getEmptyDir(), where);
        assertEquals("Memory", v.getEmptyDir().getMedium(), where);
    }

    // ----- image, jars, main classes, arguments

    private static final String IMAGE = "registry.example.com/dit-spark:0.1.0";

    @Test
    void oneImageEverywhere() {
        assertEquals(IMAGE, driverTemplate().getSpec().getContainers().get(0).getImage());
        assertEquals(IMAGE, executorTemplate().getSpec().getContainers().get(0).getImage());
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            assertEquals(IMAGE, e.getValue().image(), e.getKey());
            assertNull(e.getValue().driver().image(), e.getKey());
            assertNull(e.getValue().executor().image(), e.getKey());
        }
        assertTrue(text(k8s("Dockerfile")).contains("docker build -f k8s/Dockerfile -t " + IMAGE + " ."));
        String readme = text(k8s("README.md"));
        assertTrue(readme.contains("docker build -f k8s/Dockerfile -t " + IMAGE + " ."), "README builds the image");
        assertTrue(readme.contains("spark.kubernetes.container.image=" + IMAGE), "README submits the image");
    }

    @Test
    void versionsMatchTheBuild() {
        String spark = RepoFiles.pomProperty("spark.version");
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            assertEquals(spark, e.getValue().sparkVersion(), e.getKey());
            assertEquals("Java", e.getValue().type(), e.getKey());
            assertEquals("cluster", e.getValue().mode(), e.getKey());
            assertTrue(Set.of("Never", "OnFailure", "Always").contains(e.getValue().restartPolicy().type()));
        }
        String dockerfile = text(k8s("Dockerfile"));
        assertTrue(dockerfile.contains("ARG SPARK_IMAGE=apache/spark:" + spark + "-scala"
                + RepoFiles.pomProperty("scala.binary.version") + "-java" + RepoFiles.pomProperty("maven.compiler.release")
                + "-"), "Dockerfile's Spark base image");
    }

    /** local:///opt/dit/jars/dit-spark-job.jar must be what the Dockerfile builds from the module with that artifactId. */
    @Test
    void applicationJarsAreReactorModulesBuiltIntoTheImage() {
        String dockerfile = text(k8s("Dockerfile"));
        Map<String, String> moduleByArtifact = RepoFiles.modules().stream()
                .collect(Collectors.toMap(RepoFiles::artifactId, m -> m));
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            String file = e.getValue().mainApplicationFile();
            assertTrue(file.startsWith("local://" + IMAGE_DIR + "jars/") && file.endsWith(".jar"), file);
            String artifact = file.substring(file.lastIndexOf('/') + 1, file.length() - ".jar".length());
            String module = moduleByArtifact.get(artifact);
            assertNotNull(module, e.getKey() + ": " + artifact + " is no module's artifactId " + moduleByArtifact.keySet());
            assertTrue(dockerfile.contains("/out/jars/" + artifact + ".jar"), "Dockerfile does not build " + file);
            assertTrue(dockerfile.contains("-pl spark-job,data-prep") && dockerfile.contains(module + "/target/" + artifact),
                    "Dockerfile does not package module " + module);
        }
        assertTrue(dockerfile.contains("COPY --from=build /out/jars " + IMAGE_DIR + "jars"));
    }

    @Test
    void mainClassesAreInTheModuleOfTheirJar() {
        List<String> pending = new ArrayList<>();
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            String mainClass = e.getValue().mainClass();
            assertTrue(mainClass.matches("dev\\.ditspark(\\.[a-z]+)+\\.[A-Z]\\w*"), mainClass);
            String file = e.getValue().mainApplicationFile();
            String artifact = file.substring(file.lastIndexOf('/') + 1, file.length() - ".jar".length());
            String module = RepoFiles.modules().stream().filter(m -> RepoFiles.artifactId(m).equals(artifact))
                    .findFirst().orElseThrow();
            Path source = ROOT.resolve(module).resolve("src/main/java").resolve(mainClass.replace('.', '/') + ".java");
            if (!Files.exists(source)) {
                pending.add(mainClass + " (" + ROOT.relativize(source) + ")");
                continue;
            }
            assertTrue(text(source).matches("(?s).*public\\s+static\\s+void\\s+main\\s*\\(\\s*(final\\s+)?String.*"),
                    source + " has no main method");
        }
        assertTrue(pending.isEmpty(), "main classes missing: " + pending);
    }

    private static Map<String, List<String>> options(List<String> args) {
        Map<String, List<String>> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i += 2) {
            assertTrue(args.get(i).startsWith("--") && i + 1 < args.size(), "option and value expected: " + args);
            opts.computeIfAbsent(args.get(i), k -> new ArrayList<>()).add(args.get(i + 1));
        }
        return opts;
    }

    /** The training arguments name a config of conf/, valid with their overrides, for as many workers as executors. */
    @Test
    void trainingArgumentsAreAValidRunOfAConfigInConf() {
        SparkApplicationSpec app = train();
        Map<String, List<String>> opts = options(app.arguments());
        assertEquals(Set.of("--config", "--set"), opts.keySet());
        String config = opts.get("--config").get(0);
        assertTrue(config.startsWith(IMAGE_DIR + "conf/"), config);
        Path local = ROOT.resolve("conf").resolve(config.substring((IMAGE_DIR + "conf/").length()));
        assertTrue(Files.isRegularFile(local), "no " + local);
        assertTrue(text(k8s("Dockerfile")).contains("COPY conf " + IMAGE_DIR + "conf"));

        RunConfig run = RunConfig.load(local, opts.get("--set"));
        assertEquals(app.executor().instances() * app.executor().gpu().quantity(), (long) run.train().workers(),
                "one worker (task) per GPU of every executor");
        assertEquals("nccl", run.collective().backend());
        assertTrue(run.data().uri().startsWith("s3a://"), run.data().uri());
        assertTrue(run.checkpoint().uri().startsWith("s3a://"), run.checkpoint().uri());
        Set<String> overridden = opts.get("--set").stream().map(s -> s.substring(0, s.indexOf('=')))
                .collect(Collectors.toSet());
        assertEquals(Set.of("data.uri", "checkpoint.uri"), overridden);
    }

    /**
     * Issue 12: the executor heap is sized from the data readers' budget (its tasks x data.memory_mb of the config the
     * application trains), no longer from the dataset: the readers fit in the share of the heap the driver's check
     * allows, with room for the rest, and the spark-defaults.conf the application copies says the same.
     */
    @Test
    void executorHeapHoldsTheDataReadersOfItsTasks() throws IOException {
        SparkApplicationSpec app = train();
        Map<String, List<String>> opts = options(app.arguments());
        String config = opts.get("--config").get(0);
        RunConfig run = RunConfig.load(ROOT.resolve("conf").resolve(config.substring((IMAGE_DIR + "conf/").length())),
                opts.get("--set"));
        int tasks = app.executor().cores() / Integer.parseInt(app.sparkConf().get("spark.task.cpus"));
        assertEquals(app.executor().gpu().quantity(), (long) tasks, "one task per GPU");
        long heap = org.apache.spark.network.util.JavaUtils.byteStringAsBytes(app.executor().memory());
        long readers = tasks * run.data().memoryBytes();
        assertEquals(null, dev.ditspark.core.data.LatentStream.heapWarning(run.data().memoryBytes(), tasks, readers, heap,
                "spark.executor.memory"));
        assertTrue(heap - readers >= tasks * (4L << 30), "at least 4 GiB per task beyond its reader: " + app.executor().memory());
        assertEquals(app.executor().memory(), sparkDefaults().getProperty("spark.executor.memory").strip());
    }

    @Test
    void preprocessingWritesTheDatasetTrainingReads() {
        Map<String, List<String>> prep = options(prepare().arguments());
        RunConfig run = RunConfig.load(ROOT.resolve("conf/dit-xl-2-256.yaml"), options(train().arguments()).get("--set"));
        assertEquals(List.of(run.data().uri()), prep.get("--output"));
        assertEquals(List.of(String.valueOf(run.model().imageSize())), prep.get("--image-size"));
        for (String uri : List.of(prep.get("--input").get(0), prep.get("--vae").get(0))) {
            assertTrue(uri.startsWith("s3a://"), uri + ": read from storage, never downloaded");
        }
    }

    // ----- Spark conf

    private static Properties sparkDefaults() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(ROOT.resolve("conf/spark-defaults.conf"))) {
            p.load(r);
        }
        return p;
    }

    /** The operator does not read conf/spark-defaults.conf: each application must carry the same settings. */
    @Test
    void applicationsCarrySparkDefaults() throws IOException {
        Properties defaults = sparkDefaults();
        for (Map.Entry<String, SparkApplicationSpec> e : applications().entrySet()) {
            SparkApplicationSpec app = e.getValue();
            Map<String, String> typed = new HashMap<>();
            typed.put("spark.executor.cores", String.valueOf(app.executor().cores()));
            typed.put("spark.executor.memory", app.executor().memory());
            typed.put("spark.executor.memoryOverhead", app.executor().memoryOverhead());
            for (String key : typed.keySet()) {
                assertFalse(app.sparkConf().containsKey(key), e.getKey() + ": " + key + " is the typed field's job");
            }
            Map<String, String> effective = new HashMap<>(app.sparkConf());
            effective.putAll(typed);
            for (String key : defaults.stringPropertyNames()) {
                assertEquals(defaults.getProperty(key).strip(), effective.get(key), e.getKey() + ": " + key);
            }
            assertEquals(new TreeSet<>(defaults.stringPropertyNames()), new TreeSet<>(effective.keySet()),
                    e.getKey() + ": sparkConf beyond spark-defaults.conf");
        }
    }

    /**
     * The allocator setting (glibc keeps libtorch's freed blocks instead of returning and re-faulting them) and the
     * thread policy (OpenMP threads sleep at barriers: OMP_WAIT_POLICY=PASSIVE) reach every JVM of a job the same
     * way: spark-submit's executors (spark.executorEnv), the pod templates, the SparkApplications' pods, and the
     * image itself; bin/dit sets the same values for local runs.
     */
    @Test
    void everyJvmGetsTheAllocatorAndThreadSettings() throws IOException {
        String tunables = sparkDefaults().getProperty("spark.executorEnv.GLIBC_TUNABLES");
        assertNotNull(tunables, "spark.executorEnv.GLIBC_TUNABLES in conf/spark-defaults.conf");
        assertTrue(tunables.contains("glibc.malloc.mmap_threshold=") && tunables.contains("glibc.malloc.trim_threshold="),
                tunables);
        assertEquals("PASSIVE", sparkDefaults().getProperty("spark.executorEnv.OMP_WAIT_POLICY"),
                "spark.executorEnv.OMP_WAIT_POLICY in conf/spark-defaults.conf");
        Map<String, String> settings = Map.of("GLIBC_TUNABLES", tunables, "OMP_WAIT_POLICY", "PASSIVE");
        List<List<EnvVar>> envs = new ArrayList<>();
        envs.add(driverTemplate().getSpec().getContainers().get(0).getEnv());
        envs.add(executorTemplate().getSpec().getContainers().get(0).getEnv());
        applications().values().forEach(a -> {
            envs.add(a.driver().env());
            envs.add(a.executor().env());
        });
        String dockerfile = text(k8s("Dockerfile"));
        String binDit = text(RepoFiles.root().resolve("bin/dit"));
        for (Map.Entry<String, String> e : settings.entrySet()) {
            for (List<EnvVar> env : envs) {
                assertEquals(List.of(e.getValue()), env.stream().filter(v -> v.getName().equals(e.getKey()))
                        .map(EnvVar::getValue).toList(), e.getKey());
            }
            String assignment = e.getKey() + "=" + e.getValue();
            assertTrue(dockerfile.contains(assignment + "\n") || dockerfile.contains(assignment + " "),
                    "the image's ENV: " + assignment);
            assertTrue(binDit.contains(e.getValue()), "bin/dit sets " + assignment);
        }
    }

    /** The README's troubleshooting says how to see which transports NCCL picked. */
    @Test
    void readmeTellsHowToSeeNcclTransports() {
        String readme = text(k8s("README.md"));
        assertTrue(readme.contains("spark.executorEnv.NCCL_DEBUG=INFO"), "NCCL_DEBUG=INFO in troubleshooting");
        assertTrue(readme.contains("NET/IB") && readme.contains("NET/Socket") && readme.contains("P2P"));
    }

    // ----- secrets and service account

    @Test
    void secretReferencesNameTheSecretAndItsKeys() throws IOException {
        Secret secret = secret();
        Set<String> keys = secret.getStringData().keySet();
        assertEquals(Set.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), keys);
        // A template: placeholders only, never a real key.
        secret.getStringData().values().forEach(v -> assertEquals("CHANGE-ME", v));
        assertTrue(secret.getData() == null || secret.getData().isEmpty(), "stringData only");

        List<Object> workloads = new ArrayList<>(List.of(driverTemplate(), executorTemplate()));
        applications().values().forEach(a -> {
            workloads.add(a.driver());
            workloads.add(a.executor());
        });
        int refs = 0;
        for (Object workload : workloads) {
            List<EnvVar> env = Manifests.findAll(workload, EnvVar.class);
            Set<String> names = new TreeSet<>();
            for (EnvVar v : env) {
                SecretKeySelector ref = v.getValueFrom() == null ? null : v.getValueFrom().getSecretKeyRef();
                if (ref != null) {
                    assertEquals(secret.getMetadata().getName(), ref.getName(), v.getName());
                    assertTrue(keys.contains(ref.getKey()), ref.getKey());
                    // The AWS SDK's environment provider reads exactly these variable names.
                    assertEquals(ref.getKey(), v.getName());
                    names.add(v.getName());
                    refs++;
                }
            }
            assertEquals(keys, names, "every pod gets both credentials: " + workload.getClass().getSimpleName());
        }
        assertEquals(12, refs);
        for (Path file : manifestFiles()) {
            Matcher m = Pattern.compile("(AKIA|ASIA)[A-Z0-9]{16}").matcher(text(file));
            assertFalse(m.find(), file + " holds an AWS access key id");
        }
    }

    @Test
    void driverServiceAccountIsBoundToTheDriverRole() {
        List<HasMetadata> rbac = Manifests.load(k8s("rbac.yaml"));
        ServiceAccount account = (ServiceAccount) rbac.get(0);
        Role role = (Role) rbac.get(1);
        RoleBinding binding = (RoleBinding) rbac.get(2);

        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals("rbac.authorization.k8s.io", binding.getRoleRef().getApiGroup());
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        Subject subject = binding.getSubjects().get(0);
        assertEquals(1, binding.getSubjects().size());
        assertEquals("ServiceAccount", subject.getKind());
        assertEquals(account.getMetadata().getName(), subject.getName());

        // What Spark's driver does with each resource (executor pods, their headless service, its conf map, PVCs).
        Map<String, Set<String>> needs = Map.of(
                "pods", Set.of("create", "get", "list", "watch", "delete", "deletecollection"),
                "services", Set.of("create", "get", "delete", "deletecollection"),
                "configmaps", Set.of("create", "get", "list", "delete", "deletecollection"),
                "persistentvolumeclaims", Set.of("create", "get", "list", "delete", "deletecollection"));
        needs.forEach((resource, verbs) -> {
            Set<String> granted = new TreeSet<>();
            for (PolicyRule rule : role.getRules()) {
                if (rule.getApiGroups().contains("") && rule.getResources().contains(resource)) {
                    granted.addAll(rule.getVerbs());
                }
            }
            assertTrue(granted.containsAll(verbs), resource + ": " + granted);
        });

        String name = account.getMetadata().getName();
        assertEquals(name, driverTemplate().getSpec().getServiceAccountName());
        applications().forEach((file, app) -> assertEquals(name, app.driver().serviceAccount(), file));
        assertTrue(text(k8s("README.md")).contains("spark.kubernetes.authenticate.driver.serviceAccountName=" + name));
    }

    // ----- Dockerfile and README

    @Test
    void dockerfileProvidesWhatTheManifestsRelyOn() throws IOException {
        String dockerfile = text(k8s("Dockerfile"));
        String libtorch = RepoFiles.pomProperty("libtorch.version");
        String djl = RepoFiles.pomProperty("djl.version");
        Map<String, String> env = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*(?:ENV\\s+|ARG\\s+)?([A-Z_]+)=(\\S+?)\\s*\\\\?$").matcher(dockerfile);
        while (m.find()) {
            env.put(m.group(1), m.group(2));
        }
        assertEquals("/opt/libtorch/lib", env.get("PYTORCH_LIBRARY_PATH"));
        assertTrue(dockerfile.contains("COPY --from=libtorch /opt/libtorch /opt/libtorch"));
        assertEquals(libtorch, env.get("PYTORCH_VERSION"), "the libtorch DJL's JNI library is built for");
        String flavor = env.get("PYTORCH_FLAVOR");
        assertTrue(flavor.matches("cu\\d+"), flavor);
        assertTrue(env.get("LIBTORCH_URL").contains("/" + flavor + "/")
                && env.get("LIBTORCH_URL").contains("-" + libtorch + "%2B" + flavor + ".zip"), env.get("LIBTORCH_URL"));
        // DJL loads the JNI library for that flavour from pytorch-jni (on this class path through core), offline.
        assertNotNull(getClass().getResource("/jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
                "pytorch-jni has no " + flavor + " JNI library");
        Properties jni = new Properties();
        try (InputStream in = getClass().getResourceAsStream("/jnilib/pytorch.properties")) {
            jni.load(in);
        }
        assertTrue(jni.getProperty("jni_version").startsWith(libtorch + "-" + djl), jni.toString());
        assertNotNull(env.get("DJL_CACHE_DIR"));
        // NCCL comes from the CUDA runtime image, libibverbs (NCCL's RDMA transport) from rdma-core; the build
        // fails if either is missing.
        assertTrue(dockerfile.contains("ldconfig -p | grep -q 'libnccl.so.2'"));
        assertTrue(dockerfile.contains("libibverbs1 ibverbs-providers"), "libibverbs and its providers in the image");
        assertTrue(dockerfile.contains("ldconfig -p | grep -q 'libibverbs.so.1'"));
        assertTrue(dockerfile.contains("-DexcludeArtifactIds=pytorch-native-cpu"), "the CPU libtorch stays out");

        // Every image path the Spark conf uses exists in the image.
        Properties defaults = sparkDefaults();
        assertTrue(dockerfile.contains("-DoutputDirectory=/out/jars/lib"), "extraClassPath /opt/dit/jars/lib");
        assertEquals(IMAGE_DIR + "jars/lib/*", defaults.getProperty("spark.executor.extraClassPath"));
        String script = defaults.getProperty("spark.executor.resource.gpu.discoveryScript");
        assertTrue(Files.isRegularFile(ROOT.resolve("conf").resolve(script.substring((IMAGE_DIR + "conf/").length()))));
        assertTrue(dockerfile.contains("chmod 0755 " + IMAGE_DIR + "conf/gpu-discovery.sh"));
    }

    /** The README's spark-submit names real files and the settings the manifests use. */
    @Test
    void readmeSubmitsWithTheseFiles() throws IOException {
        String readme = text(k8s("README.md"));
        for (Path file : manifestFiles()) {
            assertTrue(readme.contains("k8s/" + file.getFileName()), "README does not use " + file.getFileName());
        }
        Matcher submit = Pattern.compile("(?s)spark-submit \\\\\\n(.*?)\\n```").matcher(readme);
        assertTrue(submit.find(), "README has no spark-submit command");
        String command = submit.group(1);
        Map<String, String> conf = new HashMap<>();
        Matcher m = Pattern.compile("--conf (\\S+?)=(\\S+)").matcher(command);
        while (m.find()) {
            conf.put(m.group(1), m.group(2));
        }
        assertTrue(Files.isRegularFile(ROOT.resolve(conf.get("spark.kubernetes.driver.podTemplateFile"))));
        assertTrue(Files.isRegularFile(ROOT.resolve(conf.get("spark.kubernetes.executor.podTemplateFile"))));
        assertEquals("spark-kubernetes-driver", conf.get("spark.kubernetes.driver.podTemplateContainerName"));
        assertEquals("spark-kubernetes-executor", conf.get("spark.kubernetes.executor.podTemplateContainerName"));
        assertEquals(String.valueOf(train().executor().instances()), conf.get("spark.executor.instances"));
        assertTrue(command.contains("--properties-file conf/spark-defaults.conf"));
        assertTrue(command.contains("--class " + train().mainClass()));
        List<String> args = train().arguments();
        assertTrue(command.contains(train().mainApplicationFile() + " \\\n  " + args.get(0) + " " + args.get(1)),
                "README passes the application jar and the config like the SparkApplication does");
    }
}
