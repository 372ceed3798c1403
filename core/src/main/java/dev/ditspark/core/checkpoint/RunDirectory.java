package dev.ditspark.core.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.config.RunConfig;
import java.net.URI;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What a training entry point ({@code dit train}, the Spark driver) does with {@code checkpoint.uri} before any
 * worker starts: take the run's {@link RunLease}, and when the run starts anew ({@code checkpoint.resume=false})
 * in a directory that holds another run's committed checkpoints, refuse — naming them and the way out — or, with
 * {@code checkpoint.move_aside=true}, move them to a sibling directory. Training into such a directory would
 * collide with the old run's steps ("already committed") or have keep_last prune the new run's checkpoints.
 */
public final class RunDirectory implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(RunDirectory.class);

    private final RunLease lease;
    private final RunConfig forWorkers;

    private RunDirectory(RunLease lease, RunConfig forWorkers) {
        this.lease = lease;
        this.forWorkers = forWorkers;
    }

    /**
     * Claims the run directory of {@code config}.
     *
     * @throws CheckpointException when another dit train holds it
     * @throws ConfigException (checkpoint.uri) when it holds another run and move_aside is not set
     */
    public static RunDirectory claim(RunConfig config, Configuration conf) {
        CheckpointStore store = CheckpointStore.open(config.checkpoint().uri(), conf);
        RunLease lease = RunLease.acquire(store, conf);
        try {
            RunConfig workers = config;
            if (!config.checkpoint().resume()) {
                List<Long> steps = store.committedSteps();
                if (!steps.isEmpty()) {
                    if (!config.checkpoint().moveAside()) {
                        throw anotherRun(store, steps);
                    }
                    URI aside = store.moveAside();
                    LOG.warn("checkpoint.move_aside: the previous run's checkpoints ({}) are now in {}",
                            store.describeSteps(steps), aside);
                }
                // The directory now holds only this run: a retried Spark stage resumes its own checkpoints.
                workers = RunConfig.bind((ObjectNode) config.toTree().deepCopy(),
                        List.of("checkpoint.resume=true", "checkpoint.move_aside=false"), "the run's configuration");
            }
            return new RunDirectory(lease, workers);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** The message when a new run would train into another run's checkpoints. */
    public static ConfigException anotherRun(CheckpointStore store, List<Long> steps) {
        return new ConfigException("checkpoint.uri " + store.uri() + " already holds another run's checkpoints ("
                + store.describeSteps(steps) + ") and checkpoint.resume=false starts a new run there, whose checkpoints "
                + "would collide with them or be pruned in their favour. Set another checkpoint.uri, resume that run "
                + "(checkpoint.resume=true), or add --set checkpoint.move_aside=true to move it to a sibling directory");
    }

    /** The configuration to hand the workers (resume=true once the directory is this run's alone). */
    public RunConfig config() {
        return forWorkers;
    }

    /** Null while this run holds the directory; else who took its lease over. */
    public String lostTo() {
        return lease.lostTo();
    }

    @Override
    public void close() {
        lease.close();
    }
}
