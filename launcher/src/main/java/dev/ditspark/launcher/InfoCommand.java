package dev.ditspark.launcher;

import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.model.ModelSummary;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.data.LatentStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.spark.network.util.JavaUtils;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code dit info}: parameters, forward GMACs, tokens and memory of a DiT configuration, or of all twelve; with
 * {@code --config}, the run config's model and whether its data readers fit the heap that will run them (issue 12).
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Print the size and cost of a DiT configuration (no weights are loaded).",
            "Without --model, prints the table of all 12 published configurations.",
            "With --config, the run config's model and its data readers' memory against the heap: this JVM's -Xmx",
            "(DIT_JAVA_OPTS), or spark.executor.memory of --properties-file; one warning line when they cannot fit."})
public final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", description = "DiT-S/2 ... DiT-XL/8.")
    String model;

    @Option(names = "--image-size", defaultValue = "256", paramLabel = "PX",
            description = "Image side in pixels; the latent side is PX/8 (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "Class count (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--in-channels", defaultValue = "4", description = "Latent channels (default: ${DEFAULT-VALUE}).")
    int inChannels;

    @Option(names = "--conditioning", defaultValue = "adaln-zero",
            description = "adaln-zero, adaln, in-context or cross-attn (default: ${DEFAULT-VALUE}).")
    String conditioning;

    @Option(names = "--config", paramLabel = "YAML", description = "A run configuration: its model, and the memory check.")
    Path config;

    @picocli.CommandLine.Mixin
    ConfigOverrides set;

    @Option(names = "--properties-file", paramLabel = "FILE",
            description = "With --config: the spark-defaults the run is submitted with (conf/spark-defaults.conf); its "
                    + "spark.executor.memory, executor.cores and task.cpus size the check.")
    Path propertiesFile;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (config == null && (propertiesFile != null || !set.overrides.isEmpty())) {
            throw new IllegalArgumentException((propertiesFile != null ? "--properties-file" : "--set")
                    + ": only with --config");
        }
        if (config != null) {
            return runConfig(out);
        }
        Conditioning c;
        try {
            c = Conditioning.fromId(conditioning);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
        if (model == null) {
            out.println(String.format(Locale.ROOT, "%-9s %6s %14s %10s %7s %10s", "model", "px", "parameters",
                    "fwd GMACs", "tokens", "fp32 MiB"));
            for (String name : DiTConfig.publishedNames()) {
                ModelSummary s = summary(name, c);
                out.println(String.format(Locale.ROOT, "%-9s %6d %,14d %10.2f %7d %10.1f", name, imageSize,
                        s.parameters(), s.forwardGmacs(), s.tokens(), s.weightBytes() / 1048576.0));
            }
        } else {
            ModelSummary s = summary(model, c);
            DiTConfig cfg = s.config();
            List<String> lines = List.of(
                    line("model", model + " (" + c.id() + ")"),
                    line("image size", imageSize + " px, latent " + cfg.inChannels() + "x" + cfg.inputSize() + "x"
                            + cfg.inputSize()),
                    line("depth / hidden / heads / patch", cfg.depth() + " / " + cfg.hiddenSize() + " / "
                            + cfg.numHeads() + " / " + cfg.patchSize()),
                    line("tokens", String.valueOf(s.tokens())),
                    line("parameters", String.format(Locale.ROOT, "%,d (trainable %,d)", s.parameters(),
                            s.trainableParameters())),
                    line("forward GMACs / image", String.format(Locale.ROOT, "%.2f", s.forwardGmacs())),
                    line("training GMACs / image", String.format(Locale.ROOT, "%.2f (about 3x forward)",
                            s.trainingGmacsPerImage())),
                    line("weights (fp32)", mib(s.weightBytes())),
                    line("weights+grads+EMA+AdamW", mib(s.trainingStateBytes())));
            lines.forEach(out::println);
        }
        out.flush();
        return 0;
    }

    /** The run config's model, then its readers against the heap; the warning is LatentStream's, as training logs it. */
    private int runConfig(PrintWriter out) throws IOException {
        RunConfig run = RunConfig.load(config, set.overrides);
        ModelSummary s = ModelSummary.of(run.model().toDiTConfig());
        DiTConfig cfg = s.config();
        int workers = run.train().workers();
        long budget = run.data().memoryBytes();
        int tasks;
        long heap;
        String setting;
        if (propertiesFile != null) {
            Properties p = sparkDefaults(propertiesFile);
            String memory = p.getProperty("spark.executor.memory");
            if (memory == null) {
                throw new IllegalArgumentException("--properties-file " + propertiesFile
                        + ": no spark.executor.memory, the executor heap the data readers share");
            }
            int cores = intSetting(p, "spark.executor.cores");
            int taskCpus = intSetting(p, "spark.task.cpus");
            tasks = Math.max(1, Math.min(workers, cores / taskCpus));
            try {
                heap = JavaUtils.byteStringAsMb(memory.strip()) << 20; // Spark reads a bare number as MiB
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--properties-file " + propertiesFile + ": spark.executor.memory '"
                        + memory.strip() + "' is not a size such as 48g or 16384m");
            }
            setting = "spark.executor.memory in " + propertiesFile + ", for " + tasks + " task" + (tasks == 1 ? "" : "s")
                    + " per executor";
        } else {
            // dit train without --master runs every worker in this launcher's JVM, started with the same DIT_JAVA_OPTS.
            tasks = workers;
            heap = Runtime.getRuntime().maxMemory();
            setting = "this JVM's -Xmx, from DIT_JAVA_OPTS; --properties-file for a cluster's executors";
        }
        List<String> lines = List.of(
                line("config", config + " (" + (run.model().name() != null ? run.model().name() : "custom DiT") + ", "
                        + cfg.inChannels() + "x" + cfg.inputSize() + "x" + cfg.inputSize() + " latents)"),
                line("parameters", String.format(Locale.ROOT, "%,d", s.parameters())),
                line("weights+grads+EMA+AdamW", mib(s.trainingStateBytes())),
                line("data readers (data.memory_mb)", String.format(Locale.ROOT, "%,d MiB per worker, %d worker%s in one JVM: "
                        + "%,d MiB", budget >> 20, tasks, tasks == 1 ? "" : "s", tasks * budget >> 20)),
                line("heap", String.format(Locale.ROOT, "%,d MiB (%s)", heap >> 20, setting)));
        lines.forEach(out::println);
        out.flush();
        String warning = LatentStream.heapWarning(budget, tasks, tasks * budget, heap, setting);
        if (warning != null) {
            spec.commandLine().getErr().println("dit: warning: " + warning);
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    private static Properties sparkDefaults(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--properties-file " + file + ": no such file");
        }
        Properties p = new Properties(); // spark-submit reads spark-defaults.conf as a Java properties file too
        try (var in = Files.newBufferedReader(file)) {
            p.load(in);
        }
        return p;
    }

    private int intSetting(Properties p, String key) {
        String v = p.getProperty(key, "1").strip();
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("--properties-file " + propertiesFile + ": " + key + " must be a positive "
                + "integer, got '" + v + "'");
    }

    private ModelSummary summary(String name, Conditioning c) {
        return ModelSummary.of(ModelOptions.named(name, imageSize, inChannels, numClasses).withConditioning(c));
    }

    private static String line(String key, String value) {
        return String.format(Locale.ROOT, "%-31s %s", key + ":", value);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}
