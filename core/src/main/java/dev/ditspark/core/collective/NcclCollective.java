package dev.ditspark.core.collective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.engine.TensorMemory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclConfig_t;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The {@code nccl} backend: NCCL through JavaCPP ({@code org.bytedeco.cuda.global.nccl}) on the device memory
 * of the tensors themselves (their {@code data_ptr()}, see {@link TensorMemory}); no host copies. Rank 0 makes
 * the unique id ({@link #newUniqueId}), the rendezvous carries it to the others, and every rank calls
 * {@link #create} with the CUDA device its task was given.
 *
 * <p>Work goes on CUDA's legacy default stream, the one libtorch uses, so it is ordered after the backward
 * pass that produced the gradients and before the optimizer step that reads them, with no extra
 * synchronisation. The calls of one operation are grouped (ncclGroupStart/End), which NCCL fuses itself; no
 * bucket copies are needed on the GPU.
 *
 * <p>Timeouts: the communicator is non-blocking ({@code ncclConfig_t.blocking = 0}); every wait polls
 * {@code ncclCommGetAsyncError} and {@code cudaStreamQuery} and, past the timeout, aborts the communicator
 * ({@code ncclCommAbort}) and throws, so a dead peer fails the step instead of hanging it. The same happens at
 * once when the calling thread is interrupted or the task's cancel check says so ({@link DeviceWait}).
 *
 * <p>Threads: CUDA's current device is per thread, so every operation first makes this communicator's device
 * current ({@code cudaSetDevice}) on the thread that calls it, not only on the thread that created it.
 *
 * <p>The mean: float32 sum, then one division by W with a 0-d tensor filled on the device (no host copy per
 * gradient). With {@link AllreduceDtype#FP16} / {@link AllreduceDtype#BF16} each tensor is divided by W,
 * cast, summed in that type (ncclFloat16 / ncclBfloat16) and copied back into the float32 tensor.
 *
 * <p>Needs a CUDA GPU, the driver and {@code libnccl.so.2} on the node (NVIDIA images have it). Elsewhere
 * {@link #newUniqueId} and {@link #create} fail at once with a message saying so; this class itself loads
 * everywhere.
 */
public final class NcclCollective implements Collective {
    private static final Logger LOG = LogManager.getLogger(NcclCollective.class);
    private static final int CUDA_ERROR_NOT_READY = 600;
    private static final int NCCL_CONFIG_UNDEF_INT = Integer.MIN_VALUE;
    private static final NDIndex ALL = new NDIndex("...");

    private final int rank;
    private final int world;
    private final int device;
    private final ncclComm comm;
    private final long timeoutNanos;
    private final AllreduceDtype dtype;
    private final BooleanSupplier cancelled;
    private volatile String broken;

    private NcclCollective(int rank, int world, int device, ncclComm comm, long timeoutNanos, AllreduceDtype dtype,
            BooleanSupplier cancelled) {
        this.rank = rank;
        this.world = world;
        this.device = device;
        this.comm = comm;
        this.timeoutNanos = timeoutNanos;
        this.dtype = dtype;
        this.cancelled = cancelled;
    }

    /** Whether NCCL and a CUDA device can be used here; the reason when not. */
    public static String unavailableReason() {
        return Native.REASON;
    }

    /** A new NCCL unique id (128 bytes) for one communicator; made by rank 0, carried to all ranks. */
    public static byte[] newUniqueId() {
        Native.require();
        ncclUniqueId id = new ncclUniqueId();
        check(nccl.ncclGetUniqueId(id), "ncclGetUniqueId");
        byte[] bytes = new byte[nccl.NCCL_UNIQUE_ID_BYTES];
        id.internal().get(bytes);
        return bytes;
    }

    /**
     * Joins the communicator as {@code rank} of {@code world} on CUDA device {@code cudaDevice}; returns when
     * all ranks have joined, fails after {@code timeout} otherwise.
     */
    public static NcclCollective create(int rank, int world, byte[] uniqueId, int cudaDevice, Duration timeout) {
        return create(rank, world, uniqueId, cudaDevice, timeout, AllreduceDtype.FP32, () -> false);
    }

    /**
     * {@link #create(int, int, byte[], int, Duration)} with the allreduce wire type and a cancel check polled by
     * every wait (e.g. Spark's {@code TaskContext::isInterrupted}); thread interruption is noticed either way.
     */
    public static NcclCollective create(int rank, int world, byte[] uniqueId, int cudaDevice, Duration timeout,
            AllreduceDtype dtype, BooleanSupplier cancelled) {
        Native.require();
        if (uniqueId.length != nccl.NCCL_UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("nccl unique id must be " + nccl.NCCL_UNIQUE_ID_BYTES + " bytes, got "
                    + uniqueId.length);
        }
        checkCuda(cudart.cudaSetDevice(cudaDevice), "cudaSetDevice(" + cudaDevice + ")");
        ncclUniqueId id = new ncclUniqueId();
        id.internal().put(uniqueId);
        ncclConfig_t config = new ncclConfig_t();
        // NCCL_CONFIG_INITIALIZER is a C macro: size, magic, version, then every tunable "undefined".
        config.size(config.sizeof()).magic(0xcafebeef).version(nccl.NCCL_VERSION_CODE)
                .blocking(0).cgaClusterSize(NCCL_CONFIG_UNDEF_INT).minCTAs(NCCL_CONFIG_UNDEF_INT)
                .maxCTAs(NCCL_CONFIG_UNDEF_INT).netName(null).splitShare(NCCL_CONFIG_UNDEF_INT);
        ncclComm comm = new ncclComm();
        long timeoutNanos = timeout.toNanos();
        int rc = nccl.ncclCommInitRankConfig(comm, world, id, rank, config);
        if (rc != nccl.ncclSuccess && rc != nccl.ncclInProgress) {
            check(rc, "ncclCommInitRankConfig");
        }
        NcclCollective c = new NcclCollective(rank, world, cudaDevice, comm, timeoutNanos, dtype, cancelled);
        c.awaitComm("joining the communicator", System.nanoTime());
        LOG.info("rank {}/{}: NCCL communicator ready on cuda:{} (allreduce in {})", rank, world, cudaDevice,
                dtype.configName());
        return c;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    @Override
    public String backend() {
        return "nccl";
    }

    /** The type gradients travel in. */
    public AllreduceDtype allreduceDtype() {
        return dtype;
    }

    @Override
    public synchronized void allreduceMean(List<NDArray> tensors) {
        usable();
        bindDevice();
        checkTensors(tensors);
        if (tensors.isEmpty()) {
            return;
        }
        NDArray first = tensors.get(0);
        // The in-place updates below must not be recorded.
        try (NoGrad off = NoGrad.enter(); NDManager tmp = first.getManager().newSubManager(first.getDevice())) {
            NDArray w = tmp.full(new Shape(), world, DataType.FLOAT32); // filled on the device: no host copy
            if (dtype == AllreduceDtype.FP32) {
                enqueue("allreduce", tensors, (t, p, n) -> nccl.ncclAllReduce(p, p, n, nccl.ncclFloat32, nccl.ncclSum,
                        comm, (CUstream_st) null));
                // float32 sum, then one division: the tcp backend's arithmetic (ncclAvg would pre-multiply by 1/W).
                for (NDArray t : tensors) {
                    if (t.size() > 0) {
                        t.divi(w);
                    }
                }
                return;
            }
            // 16-bit: divide by W in float32, cast, sum in 16 bits, copy back (DDP's compression hooks).
            List<NDArray> wire = new ArrayList<>(tensors.size());
            for (NDArray t : tensors) {
                try (NDArray scaled = t.div(w)) { // results land on t's manager: what is kept moves to tmp
                    NDArray cast = dtype == AllreduceDtype.FP16 ? scaled.toType(DataType.FLOAT16, false)
                            : Bf16OnDevice.narrow(scaled, tmp);
                    cast.attach(tmp);
                    wire.add(cast);
                }
            }
            int ncclType = dtype == AllreduceDtype.BF16 ? nccl.ncclBfloat16 : nccl.ncclFloat16;
            enqueue("allreduce (" + dtype.configName() + ")", wire, (t, p, n) -> nccl.ncclAllReduce(p, p, n, ncclType,
                    nccl.ncclSum, comm, (CUstream_st) null));
            for (int i = 0; i < tensors.size(); i++) {
                NDArray t = tensors.get(i);
                if (t.size() == 0) {
                    continue;
                }
                if (dtype == AllreduceDtype.FP16) {
                    try (NDArray back = wire.get(i).toType(DataType.FLOAT32, false)) {
                        t.set(ALL, back); // a copy on the device, in place
                    }
                } else {
                    Bf16OnDevice.widenInto(wire.get(i), t);
                }
            }
        }
    }

    @Override
    public synchronized void broadcast(List<NDArray> tensors, int root) {
        usable();
        if (root < 0 || root >= world) {
            throw new IllegalArgumentException("collective: broadcast root " + root + " outside 0.." + (world - 1));
        }
        bindDevice();
        checkTensors(tensors);
        enqueue("broadcast from rank " + root, tensors, (t, p, n) -> nccl.ncclBroadcast(p, p, n, nccl.ncclFloat32,
                root, comm, (CUstream_st) null));
    }

    @Override
    public synchronized void barrier() {
        usable();
        bindDevice();
        Pointer one = new Pointer();
        checkCuda(cudart.cudaMalloc(one, 4), "cudaMalloc");
        try {
            long start = System.nanoTime();
            nccl.ncclGroupStart();
            int rc = nccl.ncclAllReduce(one, one, 1, nccl.ncclFloat32, nccl.ncclSum, comm, (CUstream_st) null);
            int end = nccl.ncclGroupEnd();
            afterEnqueue("barrier", rc == nccl.ncclSuccess ? end : rc, start);
        } finally {
            cudart.cudaFree(one);
        }
    }

    private interface Op {
        int call(NDArray t, Pointer data, long count);
    }

    private void enqueue(String what, List<NDArray> tensors, Op op) {
        long start = System.nanoTime();
        int rc = awaitEnqueue(nccl.ncclGroupStart());
        for (NDArray t : tensors) {
            if (rc == nccl.ncclSuccess && t.size() > 0) {
                rc = awaitEnqueue(op.call(t, new Pointer(TensorMemory.view(t)), t.size()));
            }
        }
        int end = nccl.ncclGroupEnd();
        afterEnqueue(what, rc == nccl.ncclSuccess ? end : rc, start);
    }

    private static int awaitEnqueue(int rc) {
        return rc == nccl.ncclInProgress ? nccl.ncclSuccess : rc;
    }

    /**
     * Waits for the communicator and the stream, polling so that a dead peer becomes a timeout and a killed task
     * an abort.
     */
    private void afterEnqueue(String what, int rc, long start) {
        if (rc != nccl.ncclSuccess && rc != nccl.ncclInProgress) {
            throw fail(what + ": " + errorString(rc));
        }
        awaitComm(what, start);
        DeviceWait.await(what, start, timeoutNanos, cancelled, () -> {
            int q = cudart.cudaStreamQuery((CUstream_st) null);
            if (q == cudart.cudaSuccess) {
                return true;
            }
            if (q != CUDA_ERROR_NOT_READY) {
                throw fail(what + ": CUDA error " + cudart.cudaGetErrorString(q).getString());
            }
            checkAsync(what);
            return false;
        }, this::fail);
    }

    private void awaitComm(String what, long start) {
        DeviceWait.await(what, start, timeoutNanos, cancelled, () -> checkAsync(what) == nccl.ncclSuccess, this::fail);
    }

    /** CUDA's current device is per thread: make this communicator's the current one on the calling thread. */
    private void bindDevice() {
        int rc = cudart.cudaSetDevice(device);
        if (rc != cudart.cudaSuccess) {
            throw fail("cudaSetDevice(" + device + "): " + cudart.cudaGetErrorString(rc).getString());
        }
    }

    private int checkAsync(String what) {
        int[] state = new int[1];
        int rc = nccl.ncclCommGetAsyncError(comm, state);
        if (rc != nccl.ncclSuccess) {
            throw fail(what + ": ncclCommGetAsyncError: " + errorString(rc));
        }
        if (state[0] != nccl.ncclSuccess && state[0] != nccl.ncclInProgress) {
            throw fail(what + ": " + errorString(state[0]) + " (" + lastError() + ")");
        }
        return state[0];
    }

    /** Aborts the communicator (its kernels stop; peers then fail too) and returns the exception to throw. */
    private CollectiveException fail(String what) {
        String message = "rank " + rank + " of " + world + " (nccl, cuda:" + device + "), " + what;
        if (broken == null) {
            broken = message;
            nccl.ncclCommAbort(comm);
        }
        return new CollectiveException(message);
    }

    private void usable() {
        if (broken != null) {
            throw new CollectiveException("the NCCL communicator failed earlier: " + broken);
        }
    }

    private void checkTensors(List<NDArray> tensors) {
        for (int i = 0; i < tensors.size(); i++) {
            NDArray t = tensors.get(i);
            if (t.getDataType() != DataType.FLOAT32 || !t.getDevice().isGpu() || t.getDevice().getDeviceId() != device
                    || !TensorMemory.isContiguous(t)) {
                throw new IllegalArgumentException("collective (nccl): tensor " + i + " " + t.getShape() + " is "
                        + t.getDataType() + " on " + t.getDevice() + "; needs contiguous float32 on gpu(" + device + ")");
            }
        }
    }

    private String lastError() {
        return nccl.ncclGetLastError(comm).getString();
    }

    private static String errorString(int rc) {
        return nccl.ncclGetErrorString(rc).getString();
    }

    private static void check(int rc, String call) {
        if (rc != nccl.ncclSuccess) {
            throw new CollectiveException(call + " failed: " + errorString(rc));
        }
    }

    private static void checkCuda(int rc, String call) {
        if (rc != cudart.cudaSuccess) {
            throw new CollectiveException(call + " failed: " + cudart.cudaGetErrorString(rc).getString());
        }
    }

    @Override
    public void close() {
        if (broken == null) {
            cudart.cudaSetDevice(device);
            int rc = nccl.ncclCommDestroy(comm);
            if (rc != nccl.ncclSuccess && rc != nccl.ncclInProgress) {
                LOG.warn("rank {}: ncclCommDestroy: {}", rank, errorString(rc));
            }
        }
    }

    /**
     * Loads the native libraries once. JavaCPP's class initialisers throw UnsatisfiedLinkError where
     * libcuda.so.1 or libnccl.so.2 is missing; that becomes {@link #REASON} and a clear exception.
     */
    private static final class Native {
        static final String REASON = probe();

        private static String probe() {
            try {
                org.bytedeco.javacpp.Loader.load(cudart.class);
                org.bytedeco.javacpp.Loader.load(nccl.class);
                int[] count = new int[1];
                int rc = cudart.cudaGetDeviceCount(count);
                if (rc != cudart.cudaSuccess || count[0] == 0) {
                    return "no CUDA device (cudaGetDeviceCount: " + cudart.cudaGetErrorString(rc).getString() + ")";
                }
                int[] version = new int[1];
                nccl.ncclGetVersion(version);
                LOG.info("NCCL {} with {} CUDA device(s)", version[0], count[0]);
                return null;
            } catch (LinkageError | RuntimeException e) {
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                return root.toString();
            }
        }

        static void require() {
            if (REASON != null) {
                throw new IllegalStateException("nccl backend needs a CUDA GPU and libnccl.so.2; none found: " + REASON
                        + "; use collective.backend: tcp");
            }
        }
    }
}
