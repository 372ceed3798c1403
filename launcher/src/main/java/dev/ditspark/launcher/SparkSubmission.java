package dev.ditspark.launcher;

import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.launcher.AbstractLauncher;
import org.apache.spark.launcher.InProcessLauncher;
import org.apache.spark.launcher.SparkAppHandle;
import org.apache.spark.launcher.SparkLauncher;

/**
 * {@code dit train --master URL} and {@code dit sample --master URL}: submits the training job (TrainJob in the
 * spark-job jar) or the sampling job (SampleJob) to a cluster and
 * follows its state until it ends. With a Spark installation ({@code SPARK_HOME/bin/spark-submit}) it runs
 * spark-submit as a child process; without one, Spark's in-process launcher does the same submission from
 * this JVM. The configuration is validated here and travels as JSON, so the driver needs no file of ours.
 */
final class SparkSubmission {
    static final String MAIN_CLASS = "dev.ditspark.spark.TrainJob";

    /** System property naming the job jar; bin/dit sets it (with {@link #JOB_LIBRARIES}) to its build tree. */
    static final String JOB_JAR = "dit.job.jar";
    /** System property naming the directory of the job's libraries beyond Spark. */
    static final String JOB_LIBRARIES = "dit.job.lib";

    /** Where the job jar and its libraries are ({@link #locate}). */
    record JobArtifacts(Path jobJar, Path libraries) {
    }

    /**
     * How a command submits: {@code --master} (null: no submission), {@code --deploy-mode}, {@code --conf} pairs
     * (they win over the job's defaults) and {@code --properties-file} (or null).
     */
    record Options(String master, String deployMode, Map<String, String> conf, Path propertiesFile) {
        Options {
            conf = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(conf));
        }

        /** No submission: the work runs in this JVM. */
        static Options none() {
            return new Options(null, "client", Map.of(), null);
        }

        boolean submits() {
            return master != null;
        }

        /**
         * Refuses a deploy mode other than client or cluster, and --conf or --properties-file without --master.
         *
         * @throws IllegalArgumentException one line naming the option
         */
        void check() {
            if (!deployMode.equals("client") && !deployMode.equals("cluster")) {
                throw new IllegalArgumentException("--deploy-mode: client or cluster, got " + deployMode);
            }
            if (master == null && (!conf.isEmpty() || propertiesFile != null)) {
                throw new IllegalArgumentException((propertiesFile != null ? "--properties-file" : "--conf")
                        + ": only with --master (the embedded Spark of --workers is set up here)");
            }
        }

        /** A Hadoop configuration with the {@code spark.hadoop.*} settings of {@code --conf}, as the driver sees the stores. */
        Configuration hadoop() {
            Configuration c = new Configuration();
            conf.forEach((k, v) -> {
                if (k.startsWith("spark.hadoop.")) {
                    c.set(k.substring("spark.hadoop.".length()), v);
                }
            });
            return c;
        }
    }

    private final Path home;

    /** {@code home}: the dit-spark directory (bin/dit passes it as -Ddit.home); see {@link #locate} for what it holds. */
    SparkSubmission(Path home) {
        this.home = home;
    }

    static SparkSubmission fromSystemProperties() {
        return new SparkSubmission(Path.of(System.getProperty("dit.home", ".")).toAbsolutePath().normalize());
    }

    /**
     * The job jar and the directory of its dependencies beyond Spark: where the system properties {@value #JOB_JAR}
     * and {@value #JOB_LIBRARIES} say (bin/dit sets them), else the first layout that {@code home} holds: installed,
     * {@code jars/dit-spark-job.jar} and {@code jars/lib/} (the image's /opt/dit, k8s/Dockerfile), else a build
     * tree, {@code spark-job/target/dit-spark-job.jar} and {@code spark-job/target/job-lib/}.
     *
     * @throws IllegalArgumentException the properties name no jar and directory, or neither layout is complete; the
     *     message names what was looked for and how to build it
     */
    static JobArtifacts locate(Path home) {
        return locate(home, System.getProperty(JOB_JAR), System.getProperty(JOB_LIBRARIES));
    }

    /** {@link #locate(Path)} with the two properties' values given (null: not set). */
    static JobArtifacts locate(Path home, String jarProperty, String librariesProperty) {
        if (jarProperty != null || librariesProperty != null) {
            if (jarProperty == null || librariesProperty == null) {
                throw new IllegalArgumentException("--master: -D" + JOB_JAR + " and -D" + JOB_LIBRARIES
                        + " go together, only " + (jarProperty != null ? JOB_JAR : JOB_LIBRARIES) + " is set");
            }
            JobArtifacts a = new JobArtifacts(Path.of(jarProperty), Path.of(librariesProperty));
            if (Files.isRegularFile(a.jobJar()) && Files.isDirectory(a.libraries())) {
                return a;
            }
            throw new IllegalArgumentException("--master: no training job jar with its libraries at " + a.jobJar()
                    + " with " + a.libraries() + " (-D" + JOB_JAR + ", -D" + JOB_LIBRARIES
                    + "); build them with: mvn -pl spark-job -am package -DskipTests");
        }
        List<JobArtifacts> layouts = List.of(
                new JobArtifacts(home.resolve("jars/dit-spark-job.jar"), home.resolve("jars/lib")),
                new JobArtifacts(home.resolve("spark-job/target/dit-spark-job.jar"), home.resolve("spark-job/target/job-lib")));
        for (JobArtifacts a : layouts) {
            if (Files.isRegularFile(a.jobJar()) && Files.isDirectory(a.libraries())) {
                return a;
            }
        }
        throw new IllegalArgumentException("--master: no training job jar with its libraries under " + home + " (looked for "
                + layouts.stream().map(a -> a.jobJar() + " with " + a.libraries()).collect(Collectors.joining(", and "))
                + "); build them with: mvn -pl spark-job -am package -DskipTests");
    }

    Path jobJar() {
        return locate(home).jobJar();
    }

    /** The job's dependencies beyond Spark (DJL, libtorch, hadoop-aws...), shipped to executors as spark.jars. */
    List<Path> jobLibraries() {
        Path dir = locate(home).libraries();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Submits and waits; returns 0 when the application finished its steps, 1 when it failed or was killed.
     *
     * @param options where and how to submit ({@code options.submits()} must be true)
     */
    int submit(RunConfig run, Options options, PrintWriter out) throws IOException, InterruptedException {
        SparkAppHandle handle = launch("dit-train", MAIN_CLASS, List.of("--config-json", run.toTree().toString()),
                List.of(), options, out);
        SparkAppHandle.State end = handle.getState();
        long reached = reachedStep(run, options);
        if (end != SparkAppHandle.State.FINISHED || handle.getError().isPresent()
                || (reached >= 0 && reached < run.train().maxSteps())) {
            String cause = handle.getError().map(Throwable::getMessage).orElse("see the driver log");
            out.println("dit: the training application ended " + (end == SparkAppHandle.State.FINISHED ? "FAILED" : end)
                    + " at step " + reached + " of " + run.train().maxSteps() + ": " + cause);
            out.flush();
            return 1;
        }
        out.println("trained to step " + reached + " on " + options.master() + "; checkpoints in " + run.checkpoint().uri());
        out.flush();
        return 0;
    }

    /**
     * Submits {@code mainClass} of the job jar with {@code args} (and {@code files} shipped to every executor's
     * working directory, spark-submit --files), follows its state on {@code out} and returns its handle once it
     * ended (with its error, if the launcher learned of one).
     */
    SparkAppHandle launch(String appName, String mainClass, List<String> args, List<Path> files, Options options,
            PrintWriter out) throws IOException, InterruptedException {
        Map<String, String> sparkConf = options.conf();
        List<Path> libs = jobLibraries();
        Path sparkHome = System.getenv("SPARK_HOME") == null ? null : Path.of(System.getenv("SPARK_HOME"));
        boolean external = sparkHome != null && Files.isExecutable(sparkHome.resolve("bin/spark-submit"));
        AbstractLauncher<?> launcher = external ? new SparkLauncher().setSparkHome(sparkHome.toString())
                : new InProcessLauncher();
        Path props = options.propertiesFile();
        if (props != null && !Files.isRegularFile(props)) {
            throw new IllegalArgumentException("--properties-file " + props + ": no such file");
        }
        if (props == null) {
            // The in-process launcher otherwise looks for SPARK_HOME/conf.
            props = Files.createTempFile("dit-spark-defaults", ".conf");
            props.toFile().deleteOnExit();
        }
        launcher.setMaster(options.master())
                .setDeployMode(options.deployMode())
                .setAppName(appName)
                .setAppResource(jobJar().toString())
                .setMainClass(mainClass)
                .setPropertiesFile(props.toString())
                .addAppArgs(args.toArray(String[]::new));
        for (Path f : files) {
            launcher.addFile(f.toAbsolutePath().toString());
        }
        // Offline DJL on the executors (libtorch from the shipped pytorch-native jar), unless the properties
        // file or --conf already say how the executors start (conf/spark-defaults.conf does).
        java.util.Properties defaults = new java.util.Properties();
        try (var in = Files.newBufferedReader(props)) {
            defaults.load(in);
        }
        Map<String, String> ours = Map.of("spark.executor.extraJavaOptions", "-Dai.djl.offline=true",
                "spark.executorEnv.OPT_OUT_TRACKING", "true");
        ours.forEach((k, v) -> {
            if (!defaults.containsKey(k) && !sparkConf.containsKey(k)) {
                launcher.setConf(k, v);
            }
        });
        for (Path lib : libs) {
            launcher.addJar(lib.toString());
        }
        sparkConf.forEach(launcher::setConf);

        CountDownLatch done = new CountDownLatch(1);
        SparkAppHandle handle = launcher.startApplication(new SparkAppHandle.Listener() {
            @Override
            public void stateChanged(SparkAppHandle h) {
                synchronized (out) {
                    out.println("spark: " + h.getState() + (h.getAppId() != null ? " (" + h.getAppId() + ")" : ""));
                    out.flush();
                }
                if (h.getState().isFinal()) {
                    done.countDown();
                }
            }

            @Override
            public void infoChanged(SparkAppHandle h) {
            }
        });
        done.await();
        // The driver's SparkContext reports FINISHED when it stops, also when the job then throws; the launcher
        // learns of the error a moment later. So wait briefly for it (callers also check the job's output).
        for (int i = 0; i < 20 && handle.getState() == SparkAppHandle.State.FINISHED && handle.getError().isEmpty(); i++) {
            Thread.sleep(100);
        }
        return handle;
    }

    /** The run's newest committed step as this machine sees the store (spark.hadoop.* settings applied); -1 if unreadable. */
    private static long reachedStep(RunConfig run, Options options) {
        try {
            return CheckpointStore.open(run.checkpoint().uri(), options.hadoop()).latestStep().orElse(0);
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
