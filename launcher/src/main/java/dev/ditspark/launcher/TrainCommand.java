package dev.ditspark.launcher;

import ai.djl.Device;
import dev.ditspark.core.checkpoint.RunDirectory;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.StopRequest;
import dev.ditspark.core.train.StopSignals;
import dev.ditspark.core.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import dev.ditspark.spark.DistributedTraining;
import dev.ditspark.spark.LocalSpark;
import dev.ditspark.spark.WorkerResult;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dit train}: train a DiT from a YAML config; resumes from the newest checkpoint of the run. */
@Command(name = "train", mixinStandardHelpOptions = true,
        header = "Train a DiT from a YAML config, here or on a Spark cluster; resumes by itself.",
        description = {"Train a DiT as configured (conf/*.yaml), resuming from the run's newest checkpoint.",
            "SIGTERM or Ctrl-C stops after the step in flight with a checkpoint (exit 143 or 130); again quits at once.",
            "Example: dit train --config conf/demo.yaml --set train.max_steps=500"})
public final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "YAML", description = "Run configuration file.")
    Path config;

    @Mixin
    ConfigOverrides set;

    @Option(names = "--workers", paramLabel = "N", description = "Data-parallel workers (sets train.workers); more than 1 "
            + "runs the Spark job, on an embedded local[N] Spark unless --master is given.")
    Integer workers;

    @Option(names = "--master", paramLabel = "URL", description = "Submit to this Spark master (spark://..., yarn, "
            + "k8s://...) through spark-submit instead of training here.")
    String master;

    @Option(names = "--deploy-mode", defaultValue = "client", paramLabel = "MODE",
            description = "With --master: client (driver here) or cluster (default: ${DEFAULT-VALUE}).")
    String deployMode;

    @Mixin
    SparkSubmitOptions submitOptions;

    @Mixin
    GpuOption gpu;

    @Override
    public Integer call() throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(set.overrides);
        if (workers != null) {
            all.add("train.workers=" + workers);
        }
        SparkSubmission.Options spark = submitOptions.with(master, deployMode);
        spark.check();
        RunConfig run = RunConfig.load(config, all);
        if (spark.submits()) {
            return SparkSubmission.fromSystemProperties().submit(run, spark, spec.commandLine().getOut());
        }
        return trainHere(run, gpu.gpu, spec.commandLine().getOut());
    }

    /** Trains {@code run} from this JVM: one worker in-process, several on an embedded local Spark; shared with dit demo. */
    static int trainHere(RunConfig run, Integer gpu, PrintWriter out) {
        StopRequest.clear();
        StopSignals.install();
        try {
            if (run.train().workers() == 1) {
                return run(run, gpu, out);
            }
            if (gpu != null) {
                throw new IllegalArgumentException("--gpu: one worker only; " + run.train().workers()
                        + " workers take their GPUs from Spark (--master with spark.task.resource.gpu.amount=1)");
            }
            return runOnLocalSpark(run, out);
        } finally {
            StopRequest.clear(); // handled: a later run in this JVM (tests, dit demo) trains normally
        }
    }

    /** train.workers workers as one barrier stage of an embedded Spark in this JVM, a task slot per worker. */
    static int runOnLocalSpark(RunConfig run, PrintWriter out) {
        int w = run.train().workers();
        // A failed attempt is retried from the last checkpoint.
        SparkConf conf = DistributedTraining.defaults(LocalSpark.conf("dit-train", w));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            List<WorkerResult> results = DistributedTraining.run(jsc, run);
            WorkerResult r0 = results.get(0);
            if (StopRequest.reason() != null && r0.finalStep() < run.train().maxSteps()) {
                return stopped(run, r0.finalStep(), out);
            }
            if (Double.isNaN(r0.lastLoss())) { // no step ran: the newest checkpoint is already at train.max_steps
                out.printf(Locale.ROOT, "nothing to do: the run at %s is already at step %d%n", run.checkpoint().uri(),
                        r0.finalStep());
            } else {
                out.printf(Locale.ROOT, "trained to step %d on %d workers (loss %.4f); checkpoints in %s%n",
                        r0.finalStep(), w, r0.lastLoss(), run.checkpoint().uri());
            }
            out.flush();
        }
        return 0;
    }

    /** One worker in this JVM, with a progress bar on a terminal. */
    private static int run(RunConfig run, Integer gpu, PrintWriter out) {
        Device device = gpu == null ? Device.cpu() : Device.gpu(gpu);
        Configuration hadoop = new Configuration();
        try (RunDirectory claim = RunDirectory.claim(run, hadoop);
                Trainer trainer = new Trainer(claim.config(), Collective.local(), device, hadoop);
                Progress bar = Progress.start("train", trainer.step(), run.train().maxSteps())) {
            StepMetrics last = trainer.run(bar.listener());
            if (trainer.stoppedBy() != null) {
                return stopped(run, trainer.step(), out);
            }
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

    /** After a stop signal: where the run stopped and how to go on; exit 128 + the signal's number. */
    private static int stopped(RunConfig run, long step, PrintWriter out) {
        String why = StopRequest.reason();
        out.printf(Locale.ROOT, "stopped by %s at step %d; %s; run the same command to resume%n", why, step, step == 0
                ? "no step was trained" : "checkpoint " + dev.ditspark.core.checkpoint.CheckpointStore.open(
                        run.checkpoint().uri(), new Configuration()).location(step) + " holds it");
        out.flush();
        return why.equals("SIGINT") ? 130 : 143;
    }
}
