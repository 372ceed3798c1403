package dev.ditspark.core.collective;

import ai.djl.Device;
import dev.ditspark.core.config.CollectiveSpec;
import dev.ditspark.core.errors.DitUserError;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * The one place a {@code collective:} config section becomes a backend: {@code tcp} (a socket ring, any device) or
 * {@code nccl} (one GPU per worker). The scheduler only supplies a {@link Rendezvous}; which backend, and how its
 * bootstrap data travels through {@link Rendezvous#allGather}, is decided here (as xgboost's
 * {@code Communicator.init(env)} does for its trackers).
 */
public final class Collectives {
    private Collectives() {
    }

    /**
     * Joins the collective of every rank of {@code rendezvous}; a collective call (all ranks call it together).
     *
     * @param spec the run's {@code collective:} section (backend, timeout, bucket size, allreduce dtype)
     * @param rendezvous this worker's rank and the exchange with the others
     * @param device the device this worker trains on: nccl needs a GPU and runs its communicator there
     * @return the connected collective; the caller closes it
     * @throws DitUserError backend nccl on a worker without a GPU (the message names the setting to change)
     * @throws CollectiveException a peer could not be reached within {@code spec.timeoutSeconds()}
     */
    public static Collective connect(CollectiveSpec spec, Rendezvous rendezvous, Device device) {
        int rank = rendezvous.rank();
        int world = rendezvous.worldSize();
        Duration timeout = Duration.ofSeconds(spec.timeoutSeconds());
        AllreduceDtype dtype = AllreduceDtype.parse(spec.allreduceDtype());
        switch (spec.backend()) {
            case "nccl" -> {
                if (!device.isGpu()) {
                    throw new DitUserError("rank " + rank + ": collective.backend: nccl needs one GPU per task "
                            + "(spark.task.resource.gpu.amount=1); this task has none. Use tcp on CPU executors "
                            + "(--set collective.backend=tcp).");
                }
                // Rank 0 makes the NCCL unique id; the rendezvous carries it to every rank.
                String id = rank == 0 ? Base64.getEncoder().encodeToString(NcclCollective.newUniqueId()) : "";
                List<String> ids = rendezvous.allGather(id);
                // The waits also poll the rendezvous's cancel flag, so a killed worker aborts the communicator at once.
                return NcclCollective.create(rank, world, Base64.getDecoder().decode(ids.get(0)), device.getDeviceId(),
                        timeout, dtype, rendezvous::cancelled);
            }
            case "tcp" -> {
                TcpCollective.Endpoint endpoint = TcpCollective.listen(rendezvous.host());
                List<String> peers;
                try {
                    peers = rendezvous.allGather(endpoint.address());
                } catch (RuntimeException e) {
                    endpoint.close();
                    throw e;
                }
                return endpoint.connect(rank, peers, TcpCollective.Options.of(timeout)
                        .withBucketBytes((long) spec.bucketMb() << 20).withAllreduceDtype(dtype));
            }
            default -> throw new IllegalArgumentException("collective.backend: tcp or nccl, got " + spec.backend());
        }
    }
}
