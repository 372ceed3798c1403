package dev.ditspark.sparkcommon;

import dev.ditspark.core.collective.Rendezvous;
import java.util.List;
import org.apache.spark.BarrierTaskContext;

/**
 * A barrier stage as a {@link Rendezvous}: rank = partition id, world = the stage's tasks, the exchange is
 * {@link BarrierTaskContext#allGather}, and a task Spark killed is cancelled.
 */
public final class BarrierRendezvous implements Rendezvous {
    private final BarrierTaskContext ctx;

    /** The rendezvous of the barrier task running this thread. */
    public static BarrierRendezvous current() {
        return new BarrierRendezvous(BarrierTaskContext.get());
    }

    public BarrierRendezvous(BarrierTaskContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public int rank() {
        return ctx.partitionId();
    }

    @Override
    public int worldSize() {
        return ctx.getTaskInfos().length;
    }

    /** The executor's host from Spark's task info ({@code host:port}, the port dropped). */
    @Override
    public String host() {
        return ctx.getTaskInfos()[rank()].address().replaceFirst(":\\d+$", "");
    }

    @Override
    public List<String> allGather(String value) {
        return List.of(ctx.allGather(value));
    }

    @Override
    public boolean cancelled() {
        return ctx.isInterrupted();
    }
}
