package dev.ditspark.spark;

import dev.ditspark.core.train.StepMetrics;
import dev.ditspark.core.train.TrainingListener;
import java.io.IOException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A worker dying on purpose: rank {@code rank} fails at step {@code step} of the stage's first attempt, in one of
 * three ways. Passed to {@link DistributedTraining#run(org.apache.spark.api.java.JavaSparkContext,
 * dev.ditspark.core.config.RunConfig, WorkerListeners)}; it reaches the executors inside the task (the tests put
 * their class path on the executors').
 */
record InjectedFailure(long step, int rank, Mode mode) implements WorkerListeners {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LogManager.getLogger(InjectedFailure.class);

    enum Mode {
        /** The task throws: Spark fails the stage and retries it. */
        THROW,
        /** The executor JVM dies at once, as a killed node's would. */
        HALT,
        /** The executor gets a real SIGTERM, as from a pod's eviction. */
        SIGTERM
    }

    @Override
    public TrainingListener forWorker(Worker worker) {
        if (worker.rank() != rank || worker.stageAttempt() != 0) {
            return TrainingListener.NONE;
        }
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                if (m.step() != step) {
                    return;
                }
                switch (mode) {
                    case SIGTERM -> {
                        LOG.warn("rank {}: sending SIGTERM to this executor at step {} (test)", rank, m.step());
                        try {
                            new ProcessBuilder("kill", "-TERM", Long.toString(ProcessHandle.current().pid())).start()
                                    .waitFor();
                        } catch (IOException | InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    case HALT -> {
                        LOG.warn("rank {}: killing this executor at step {} (test)", rank, m.step());
                        Runtime.getRuntime().halt(137);
                    }
                    case THROW -> throw new IllegalStateException("rank " + rank + ": injected failure at step " + m.step());
                }
            }
        };
    }
}
