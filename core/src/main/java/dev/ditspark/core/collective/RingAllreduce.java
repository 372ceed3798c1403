package dev.ditspark.core.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Ring allreduce (mean) of a float32 buffer, the algorithm Horovod, Gloo and NCCL's ring use: the buffer is
 * cut into W segments; in W − 1 reduce-scatter steps each rank adds the segment arriving from rank − 1 to its
 * own and passes the sum on, after which rank r holds the full sum of segment r + 1; W − 1 all-gather steps
 * then pass the finished segments round the ring. Every rank sends and receives 2(W − 1)/W of the buffer,
 * whatever W is.
 *
 * <p>Pipelined: each step's segment moves in chunks, and a chunk is forwarded as soon as it has been added,
 * so the steps overlap instead of waiting for whole segments. Seen as streams, this rank sends its own
 * segment followed by everything it receives (reduced, then final) except the last segment, so "may I send
 * byte p of step j" is "has byte p of received step j − 1 been applied".
 *
 * <p>Deterministic and identical on all ranks: a segment's sum is formed in ring order on one rank, divided
 * by W there (float32 sum, then one division, as the reference's mean), and copied verbatim to the others.
 *
 * <p>{@link #sum16} runs the same ring over 16-bit values (fp16 or bf16), half the bytes: each hop widens both
 * operands to float32, adds, and rounds back, as NCCL's reduction kernels do for these types.
 */
final class RingAllreduce {
    /** Reduce-scatter granularity: small enough to pipeline, large enough to keep per-chunk costs low. */
    static final int CHUNK_BYTES = 1 << 18;

    private final RingLink link;
    private final ByteBuffer staging = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.nativeOrder());
    private final FloatBuffer stagingFloats = staging.asFloatBuffer();
    private final ShortBuffer stagingShorts = staging.asShortBuffer(); // views made at position 0, native order
    private final float[] incoming = new float[CHUNK_BYTES / 4];
    private final float[] local = new float[CHUNK_BYTES / 4];
    private final short[] incoming16 = new short[CHUNK_BYTES / 2];
    private final short[] local16 = new short[CHUNK_BYTES / 2];

    RingAllreduce(RingLink link) {
        this.link = link;
    }

    /** Replaces the first {@code floats} floats of {@code data} (native order) with their mean over all ranks. */
    void mean(ByteBuffer data, int floats) {
        reduce(data, floats, null);
    }

    /**
     * Replaces the first {@code count} 16-bit values of {@code data} (native order, {@code dtype}'s bits) with
     * their sum over all ranks, rounded to {@code dtype} after every addition.
     */
    void sum16(ByteBuffer data, int count, AllreduceDtype dtype) {
        if (dtype == AllreduceDtype.FP32) {
            throw new IllegalArgumentException("sum16 takes fp16 or bf16");
        }
        reduce(data, count, dtype);
    }

    /** The ring over {@code count} elements: float32 mean when {@code half} is null, else a 16-bit sum. */
    private void reduce(ByteBuffer data, int floats, AllreduceDtype half) {
        int w = link.worldSize();
        if (w == 1 || floats == 0) {
            return;
        }
        int eb = half == null ? 4 : 2; // bytes per element
        int r = link.rank();
        int[] start = new int[w + 1]; // segment i = floats [start[i], start[i+1])
        for (int i = 0; i <= w; i++) {
            start[i] = (int) ((long) i * floats / w);
        }
        int steps = 2 * (w - 1);
        ByteBuffer out = data.duplicate();
        ByteBuffer in = data.duplicate();
        ByteBuffer native_ = data.duplicate().order(ByteOrder.nativeOrder());
        staging.clear();

        int sendStep = 0;
        int sendOff = 0; // bytes of segment outSeg(sendStep) sent
        int recvStep = 0;
        int recvOff = 0; // bytes of segment inSeg(recvStep) received
        int applied = 0; // bytes of it added (reduce-scatter) or in place (all-gather)
        while (sendStep < steps || recvStep < steps) {
            boolean moved = false;
            // send: as much of outgoing step sendStep as is ready
            while (sendStep < steps) {
                int seg = outSegment(r, w, sendStep);
                int segBytes = eb * (start[seg + 1] - start[seg]);
                if (sendOff == segBytes) {
                    sendStep++;
                    sendOff = 0;
                    continue;
                }
                int ready = readyBytes(sendStep, segBytes, recvStep, applied);
                if (sendOff >= ready) {
                    break;
                }
                int base = eb * start[seg];
                out.limit(base + ready).position(base + sendOff);
                int n = link.write(out);
                if (n == 0) {
                    break;
                }
                sendOff += n;
                moved = true;
            }
            // receive: into the staging chunk (reduce-scatter) or straight into place (all-gather)
            while (recvStep < steps) {
                int seg = inSegment(r, w, recvStep);
                int segBytes = eb * (start[seg + 1] - start[seg]);
                if (applied == segBytes) {
                    recvStep++;
                    recvOff = 0;
                    applied = 0;
                    continue;
                }
                int base = eb * start[seg];
                int n;
                if (recvStep < w - 1) {
                    int chunk = Math.min(CHUNK_BYTES, segBytes - applied);
                    staging.limit(chunk).position(recvOff - applied);
                    n = link.read(staging);
                    recvOff += n;
                    if (recvOff - applied == chunk) {
                        if (half == null) {
                            add(native_.asFloatBuffer(), (base + applied) / 4, chunk / 4, recvStep == w - 2 ? w : 0);
                        } else {
                            add16(native_.asShortBuffer(), (base + applied) / 2, chunk / 2, half);
                        }
                        applied = recvOff;
                    }
                } else {
                    in.limit(base + segBytes).position(base + recvOff);
                    n = link.read(in);
                    recvOff += n;
                    applied = recvOff;
                }
                if (n == 0) {
                    break;
                }
                moved = true;
            }
            if (!moved && (sendStep < steps || recvStep < steps)) {
                boolean canSend = sendStep < steps && sendReady(r, w, start, eb, sendStep, sendOff, recvStep, applied);
                link.await(canSend, recvStep < steps, sendStep < steps);
            }
        }
    }

    private static boolean sendReady(int r, int w, int[] start, int eb, int sendStep, int sendOff, int recvStep,
            int applied) {
        int seg = outSegment(r, w, sendStep);
        return sendOff < readyBytes(sendStep, eb * (start[seg + 1] - start[seg]), recvStep, applied);
    }

    /** Bytes of outgoing step j's segment that may be sent: all of step 0; else what received step j − 1 has applied. */
    private static int readyBytes(int sendStep, int segBytes, int recvStep, int applied) {
        if (sendStep == 0 || sendStep - 1 < recvStep) {
            return segBytes;
        }
        return sendStep - 1 == recvStep ? applied : 0;
    }

    /** data[at..at+n) += staging[0..n); on the last reduce-scatter step also / divisor. */
    private void add(FloatBuffer data, int at, int n, int divisor) {
        stagingFloats.get(0, incoming, 0, n);
        data.get(at, local, 0, n);
        if (divisor == 0) {
            for (int i = 0; i < n; i++) {
                local[i] += incoming[i];
            }
        } else {
            float d = divisor;
            for (int i = 0; i < n; i++) {
                local[i] = (local[i] + incoming[i]) / d;
            }
        }
        data.put(at, local, 0, n);
    }

    /** data[at..at+n) = round(widen(data) + widen(staging)) in 16-bit values. */
    private void add16(ShortBuffer data, int at, int n, AllreduceDtype dtype) {
        stagingShorts.get(0, incoming16, 0, n);
        data.get(at, local16, 0, n);
        for (int i = 0; i < n; i++) {
            local16[i] = dtype.encode(dtype.decode(local16[i]) + dtype.decode(incoming16[i]));
        }
        data.put(at, local16, 0, n);
    }

    /** Segment sent at step j: own segment r, then each one received (reduce-scatter, then all-gather). */
    static int outSegment(int r, int w, int j) {
        return j <= w - 2 ? Math.floorMod(r - j, w) : Math.floorMod(r + w - j, w);
    }

    /** Segment received at step k; inSegment(k) == outSegment(k + 1). */
    static int inSegment(int r, int w, int k) {
        return k <= w - 2 ? Math.floorMod(r - k - 1, w) : Math.floorMod(r - k + w - 1, w);
    }
}
