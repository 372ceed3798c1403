package dev.ditspark.launcher;

import ai.djl.Device;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dit train}: train a DiT from a YAML config; resumes from the newest checkpoint of the run. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a DiT as configured (conf/*.yaml), resuming from the run's newest checkpoint.",
            "Example: dit train --config conf/demo.yaml --set train.max_steps=500"})
public final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "YAML", description = "Run configuration file.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config field, e.g. train.lr=2e-4 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--gpu", paramLabel = "INDEX", description = "Train on this CUDA device instead of the CPU.")
    Integer gpu;

    @Override
    public Integer call() {
        RunConfig run = RunConfig.load(config, overrides);
        return run(run, gpu, spec.commandLine().getOut());
    }

    /** Trains {@code run} in this JVM (one worker); shared with {@code dit demo}. */
    static int run(RunConfig run, Integer gpu, PrintWriter out) {
        if (run.train().workers() != 1) {
            throw new IllegalArgumentException("train.workers: " + run.train().workers()
                    + " workers need the Spark job (dit train --master ...); this command runs one worker");
        }
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        try (Trainer trainer = new Trainer(run, Collective.local(), device, new Configuration());
                Progress bar = Progress.start("train", trainer.step(), run.train().maxSteps())) {
            StepMetrics last = trainer.run(bar.listener());
            if (last == null) {
                out.printf(Locale.ROOT, "nothing to do: the run at %s is already at step %d%n", run.checkpoint().uri(),
                        trainer.step());
            } else {
                out.printf(Locale.ROOT, "trained to step %d (loss %.4f); checkpoints in %s%n", last.step(), last.loss(),
                        run.checkpoint().uri());
            }
            out.flush();
        }
        return 0;
    }
}
