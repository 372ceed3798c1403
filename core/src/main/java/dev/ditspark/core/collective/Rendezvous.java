package dev.ditspark.core.collective;

import java.util.List;

/**
 * How the workers of one job find each other before a {@link Collective} exists: each knows its rank, the world
 * size and its own host, and all can exchange one string each. Spark's barrier stage provides one
 * ({@code BarrierTaskContext.allGather}); so could a PyTorch-style store or MPI. This is all
 * {@link Collectives#connect} needs from a scheduler (cf. xgboost's {@code Communicator.init(env)}).
 */
public interface Rendezvous {

    /** This worker's rank, 0 ≤ rank &lt; {@link #worldSize()}. */
    int rank();

    int worldSize();

    /** This worker's host name or IP address, as the other workers reach it (the tcp backend listens there). */
    String host();

    /**
     * A collective call: every rank passes its {@code value} and gets every rank's, in rank order. Blocks until all
     * ranks have called it.
     */
    List<String> allGather(String value);

    /**
     * Polled by the backend's waits: true once this worker was told to stop (Spark killed the task), so a wait on
     * a peer ends at once instead of at the timeout. Never cancelled unless overridden.
     */
    default boolean cancelled() {
        return false;
    }
}
