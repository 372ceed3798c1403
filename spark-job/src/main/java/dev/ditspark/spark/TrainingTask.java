package dev.ditspark.spark;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.collective.AllreduceDtype;
import dev.ditspark.core.collective.Collective;
import dev.ditspark.core.collective.NcclCollective;
import dev.ditspark.core.collective.TcpCollective;
import dev.ditspark.core.config.CollectiveSpec;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.errors.Failures;
import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.StopRequest;
import dev.ditspark.core.train.StopSignals;
import dev.ditspark.core.train.Trainer;
import dev.ditspark.core.train.TrainingListener;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.resource.ResourceInformation;
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
    /** Local properties that let tests fail one rank at one step on the first attempt (a worker dying). */
    static final String FAIL_AT_STEP = "dit.test.failAtStep";
    static final String FAIL_RANK = "dit.test.failRank";
    /**
     * "throw" (default: the task fails), "halt" (the executor JVM dies at once, as a killed node's would) or
     * "sigterm" (the executor gets a real SIGTERM, as from a pod's eviction).
     */
    static final String FAIL_MODE = "dit.test.failMode";

    private final String configJson;
    private final HadoopSettings hadoop;
    /** Rank 0's progress to the driver's metrics source (TrainingMetricsSource). */
    private final ProgressAccumulator progress;

    TrainingTask(RunConfig config, HadoopSettings hadoop, ProgressAccumulator progress) {
        this.configJson = config.toTree().toString();
        this.hadoop = hadoop;
        this.progress = progress;
    }

    @Override
    public Iterator<WorkerResult> apply(Iterator<Integer> ignored) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        BarrierTaskInfo[] infos = ctx.getTaskInfos();
        int world = infos.length;
        RunConfig config = parse(configJson);
        StopSignals.install(); // SIGTERM / Spark's decommission SIGPWR to this executor: checkpoint, then stop
        Device device = device(ctx);
        CollectiveSpec cs = config.collective();
        LOG.info("rank {}/{} starting on {} (stage attempt {}, {} backend)", rank, world, device,
                ctx.stageAttemptNumber(), cs.backend());
        try (Collective collective = connect(ctx, rank, world, infos, cs, device);
                Trainer trainer = new Trainer(config, collective, device, hadoop.toConfiguration())) {
            agreeOnTheStartingStep(ctx, rank, trainer.step());
            StepMetrics last = trainer.run(reportingProgress(failureInjection(ctx, rank)));
            exitOnceReportedIfTerminated(ctx, rank, trainer);
            return CollectionConverters.asScala(List.of(new WorkerResult(rank, world, trainer.step(),
                    last == null ? Double.NaN : last.loss(), collective.backend(), device.toString())).iterator());
        } catch (RuntimeException e) {
            // The same input fails the same way on every attempt: say so, and the driver ends the job unretried.
            if (Failures.isDeterministic(e) && !(e instanceof DitUserError)) {
                throw new DitUserError("rank " + rank + ": " + Failures.message(e), e);
            }
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

    /**
     * The GPU Spark assigned to this task, else the CPU. With one executor per node running one task per GPU
     * (spark.executor.resource.gpu.amount = the node's GPUs, spark.task.resource.gpu.amount=1), Spark gives each
     * task of the executor a different address, so the tasks of a node use different devices.
     */
    static Device device(org.apache.spark.TaskContext ctx) {
        ResourceInformation gpu = ctx.resourcesJMap().get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return Device.cpu();
        }
        if (gpu.addresses().length > 1) {
            throw new IllegalStateException("spark.task.resource.gpu.amount: a training task uses one GPU, this one was"
                    + " given " + gpu.addresses().length + " (" + String.join(",", gpu.addresses()) + "); set it to 1");
        }
        return Device.gpu(Integer.parseInt(gpu.addresses()[0].trim()));
    }

    private static Collective connect(BarrierTaskContext ctx, int rank, int world, BarrierTaskInfo[] infos,
            CollectiveSpec cs, Device device) {
        Duration timeout = Duration.ofSeconds(cs.timeoutSeconds());
        if (cs.backend().equals("nccl")) {
            if (!device.isGpu()) {
                throw new DitUserError("rank " + rank + ": collective.backend: nccl needs one GPU per task "
                        + "(spark.task.resource.gpu.amount=1); this task has none. Use tcp on CPU executors "
                        + "(--set collective.backend=tcp).");
            }
            // Rank 0 makes the NCCL unique id; allGather carries it to every rank.
            String id = rank == 0 ? Base64.getEncoder().encodeToString(NcclCollective.newUniqueId()) : "";
            String[] ids = ctx.allGather(id);
            // The waits also poll Spark's kill flag, so a killed task aborts the communicator at once.
            return NcclCollective.create(rank, world, Base64.getDecoder().decode(ids[0]), device.getDeviceId(), timeout,
                    AllreduceDtype.parse(cs.allreduceDtype()), ctx::isInterrupted);
        }
        String host = infos[rank].address().replaceFirst(":\\d+$", "");
        TcpCollective.Endpoint endpoint = TcpCollective.listen(host);
        String[] peers = ctx.allGather(endpoint.address());
        return endpoint.connect(rank, List.of(peers),
                TcpCollective.Options.of(timeout).withBucketBytes(cs.bucketMb() << 20)
                        .withAllreduceDtype(AllreduceDtype.parse(cs.allreduceDtype())));
    }

    /** {@code inner}, and each line rank 0 logs goes to the driver's metrics through the accumulator. */
    private TrainingListener reportingProgress(TrainingListener inner) {
        return new TrainingListener() {
            @Override
            public void onStart(long firstStep, long maxSteps) {
                inner.onStart(firstStep, maxSteps);
            }

            @Override
            public void onStep(StepMetrics m) {
                inner.onStep(m);
            }

            @Override
            public void onCheckpoint(long step, String uri) {
                inner.onCheckpoint(step, uri);
            }

            @Override
            public void onLog(dev.ditspark.core.train.MetricsRecord r) {
                inner.onLog(r);
                progress.add(new TrainingProgress(r.step(), r.loss(), r.imagesPerSecond()));
            }
        };
    }

    private static TrainingListener failureInjection(BarrierTaskContext ctx, int rank) {
        String at = ctx.getLocalProperty(FAIL_AT_STEP);
        String who = ctx.getLocalProperty(FAIL_RANK);
        String mode = ctx.getLocalProperty(FAIL_MODE);
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (ctx.isInterrupted()) {
                    throw new IllegalStateException("rank " + rank + ": task killed by Spark at step " + m.step());
                }
                if (at != null && ctx.stageAttemptNumber() == 0 && Long.parseLong(at) == m.step()
                        && Integer.parseInt(who == null ? "0" : who) == rank) {
                    if ("sigterm".equals(mode)) {
                        LOG.warn("rank {}: sending SIGTERM to this executor at step {} (test)", rank, m.step());
                        try {
                            new ProcessBuilder("kill", "-TERM", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                        } catch (IOException | InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return;
                    }
                    if ("halt".equals(mode)) {
                        LOG.warn("rank {}: killing this executor at step {} (test)", rank, m.step());
                        Runtime.getRuntime().halt(137);
                    }
                    throw new IllegalStateException("rank " + rank + ": injected failure at step " + m.step());
                }
            }
        };
    }
}
