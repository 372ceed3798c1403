package dev.ditspark.spark;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.collective.Collectives;
import dev.ditspark.core.config.CollectiveSpec;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.StopRequest;
import dev.ditspark.core.train.StopSignals;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import dev.ditspark.sparkcommon.BarrierRendezvous;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.HadoopSettings;
import dev.ditspark.sparkcommon.TaskGpu;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.TaskCompletionListener;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One worker of the barrier stage: rendezvous through {@code allGather}, build the collective, train, report.
 * Rank = partition id. On a GPU executor the task's assigned GPU picks the CUDA device.
 */
final class TrainingTask extends AbstractFunction1<Iterator<Integer>, Iterator<WorkerResult>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LogManager.getLogger(TrainingTask.class);
    private final String configJson;
    private final HadoopSettings hadoop;
    /** Rank 0's progress to the driver's metrics source (TrainingMetricsSource). */
    private final ProgressAccumulator progress;
    /** The caller's listeners (tests inject failures with them). */
    private final WorkerListeners extra;

    TrainingTask(RunConfig config, HadoopSettings hadoop, ProgressAccumulator progress, WorkerListeners extra) {
        this.configJson = config.toTree().toString();
        this.hadoop = hadoop;
        this.progress = progress;
        this.extra = extra;
    }

    @Override
    public Iterator<WorkerResult> apply(Iterator<Integer> ignored) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        BarrierRendezvous rendezvous = new BarrierRendezvous(ctx);
        int rank = rendezvous.rank();
        int world = rendezvous.worldSize();
        RunConfig config = parse(configJson);
        StopSignals.install(); // SIGTERM / Spark's decommission SIGPWR to this executor: checkpoint, then stop
        Device device = TaskGpu.of(ctx);
        CollectiveSpec cs = config.collective();
        LOG.info("rank {}/{} starting on {} (stage attempt {}, {} backend)", rank, world, device,
                ctx.stageAttemptNumber(), cs.backend());
        try (Collective collective = Collectives.connect(cs, rendezvous, device);
                Trainer trainer = new Trainer(config, collective, device, hadoop.toConfiguration())) {
            agreeOnTheStartingStep(ctx, rank, trainer.step());
            TrainingListener callers = extra.forWorker(new WorkerListeners.Worker(rank, world, ctx.stageAttemptNumber()));
            StepMetrics last = trainer.run(reportingProgress(stopWhenKilled(ctx, rank, callers)));
            exitOnceReportedIfTerminated(ctx, rank, trainer);
            return CollectionConverters.asScala(List.of(new WorkerResult(rank, world, trainer.step(),
                    last == null ? Double.NaN : last.loss(), collective.backend(), device.toString())).iterator());
        } catch (RuntimeException e) {
            // The same input fails the same way on every attempt: say so, and the driver ends the job unretried.
            FailFast.throwIfDeterministic("rank " + rank, e);
            throw e;
        }
    }

    /**
     * An executor JVM told to terminate (SIGTERM/SIGINT; not SIGPWR, whose decommissioning Spark finishes itself)
     * has written its checkpoint: it exits once this task has reported, so the driver's next attempt runs on
     * executors that stay (the stage resumes from that checkpoint).
     */
    private static void exitOnceReportedIfTerminated(BarrierTaskContext ctx, int rank, Trainer trainer) {
        String why = StopRequest.reason();
        boolean executor = SparkEnv.get() != null && !"driver".equals(SparkEnv.get().executorId());
        if (!executor || trainer.stoppedBy() == null || why == null || why.equals("SIGPWR")) {
            return;
        }
        ctx.addTaskCompletionListener(new TaskCompletionListener() {
            @Override
            public void onTaskCompletion(org.apache.spark.TaskContext context) {
                Thread exit = new Thread(() -> {
                    try {
                        Thread.sleep(2_000); // the task's status update reaches the driver first
                    } catch (InterruptedException ignored) {
                        // exit now
                    }
                    LOG.warn("rank {}: this executor was told to terminate ({}); its checkpoint is written, exiting", rank, why);
                    System.exit(why.equals("SIGINT") ? 130 : 143);
                }, "dit-exit-after-stop");
                exit.setDaemon(true);
                exit.start();
            }
        });
    }

    /**
     * Every rank resumed from what it saw as the newest committed checkpoint; a checkpoint committed by a
     * previous attempt's rank 0 while this attempt started could make them differ. Then fail this attempt
     * (Spark retries it) rather than train ranks that disagree.
     */
    private static void agreeOnTheStartingStep(BarrierTaskContext ctx, int rank, long step) {
        String[] steps = ctx.allGather(Long.toString(step));
        for (int r = 0; r < steps.length; r++) {
            if (Long.parseLong(steps[r]) != step) {
                throw new IllegalStateException("rank " + rank + " resumed at step " + step + " but rank " + r
                        + " at step " + steps[r] + "; retrying the stage");
            }
        }
    }

    private static RunConfig parse(String json) {
        try {
            return RunConfig.bind((ObjectNode) new ObjectMapper().readTree(json), List.of(), "the driver's configuration");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code inner}, and each line rank 0 logs goes to the driver's metrics through the accumulator. */
    private TrainingListener reportingProgress(TrainingListener inner) {
        return new TrainingListener.Forwarding(inner) {
            @Override
            public void onLog(dev.ditspark.core.train.MetricsRecord r) {
                super.onLog(r);
                progress.add(new TrainingProgress(r.step(), r.loss(), r.imagesPerSecond()));
            }
        };
    }

    /** {@code inner}, after a check that ends the run at the first step after Spark killed the task. */
    private static TrainingListener stopWhenKilled(BarrierTaskContext ctx, int rank, TrainingListener inner) {
        return new TrainingListener.Forwarding(inner) {
            @Override
            public void onStep(StepMetrics m) {
                if (ctx.isInterrupted()) {
                    throw new IllegalStateException("rank " + rank + ": task killed by Spark at step " + m.step());
                }
                super.onStep(m);
            }
        };
    }
}
