package dev.ditspark.core.collective;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The collective operations data-parallel training needs, over the tensors themselves so each backend moves
 * bytes its own way: {@code tcp} through host buffers and a ring over sockets, {@code nccl} on the device
 * memory of the tensors. A worker is "rank r of world w with a Collective"; nothing here knows Spark.
 *
 * <p>Every operation is collective: all ranks call it with tensors of the same shapes in the same order. A
 * peer that dies or stops answering makes the call fail after the backend's timeout; it never hangs.
 */
public interface Collective extends AutoCloseable {

    int rank();

    int worldSize();

    /** Backend name for logs ("local", "tcp", "nccl"). */
    String backend();

    /** Replaces each tensor, in place, with its element-wise mean over all ranks (gradient averaging). */
    void allreduceMean(List<NDArray> tensors);

    /** Replaces each tensor, in place, with rank {@code root}'s values (initial weights). */
    void broadcast(List<NDArray> tensors, int root);

    /** Returns when every rank has called it. */
    void barrier();

    @Override
    void close();

    /** The single-worker collective: every operation is the identity. */
    static Collective local() {
        return new Collective() {
            @Override
            public int rank() {
                return 0;
            }

            @Override
            public int worldSize() {
                return 1;
            }

            @Override
            public String backend() {
                return "local";
            }

            @Override
            public void allreduceMean(List<NDArray> tensors) {
            }

            @Override
            public void broadcast(List<NDArray> tensors, int root) {
            }

            @Override
            public void barrier() {
            }

            @Override
            public void close() {
            }
        };
    }
}
