package dev.ditspark.core.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.ditspark.core.engine.TorchEngine;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The tcp ring on loopback, W ranks as threads of this JVM, against double-precision references. */
class TcpCollectiveTest {
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rank");
        t.setDaemon(true);
        return t;
    });
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @AfterAll
    static void stop() {
        POOL.shutdownNow();
    }

    /** Sizes that stress the segment arithmetic: empty, smaller than W, primes, several chunks. */
    private static final int[] SIZES = {0, 1, 7, 2, 1001, 3, 70_007, 5};

    @Test
    void allreduceMeanMatchesTheDoubleReferenceAndIsBitIdenticalOnAllRanks() throws Exception {
        for (int world = 1; world <= 4; world++) {
            // 16 KB buckets: several tensors per bucket, and the 70,007-float tensor in a bucket of its own.
            List<TcpCollective> ranks = ring(world, TcpCollective.Options.of(TIMEOUT).withBucketBytes(16 << 10));
            int w = world;
            List<float[][]> results = onAll(ranks, rank -> {
                try (NDManager m = TorchEngine.newManager()) {
                    List<NDArray> tensors = tensors(m, rank);
                    ranks.get(rank).allreduceMean(tensors);
                    ranks.get(rank).allreduceMean(tensors(m, rank + 10)); // a second call on the same ring
                    return tensors.stream().map(NDArray::toFloatArray).toArray(float[][]::new);
                }
            });
            for (int i = 0; i < SIZES.length; i++) {
                float[] got = results.get(0)[i];
                for (int j = 0; j < SIZES[i]; j++) {
                    double sum = 0;
                    double abs = 0;
                    for (int r = 0; r < w; r++) {
                        double v = value(r, i, j);
                        sum += v;
                        abs += Math.abs(v);
                    }
                    assertEquals(sum / w, got[j], 1e-6 * abs + 1e-30, "world " + w + " tensor " + i + " [" + j + "]");
                }
                for (int r = 1; r < w; r++) {
                    assertArrayEquals(got, results.get(r)[i], "world " + w + ": rank " + r + " differs from rank 0");
                }
            }
            closeAll(ranks);
        }
    }

    @Test
    void gradientsAreAveragedInPlaceOnTheParameters() throws Exception {
        List<TcpCollective> ranks = ring(2, TcpCollective.Options.of(TIMEOUT));
        List<float[]> grads = onAll(ranks, rank -> {
            try (NDManager m = TorchEngine.newManager()) {
                NDArray w = m.create(new float[] {1, 2, 3, 4, 5}, new Shape(5));
                w.setRequiresGradient(true);
                NDArray c = m.create(new float[] {rank + 1f, 10, -3, 0.5f, rank * 7f});
                synchronized (TcpCollectiveTest.class) { // DJL allows one collecting GradientCollector per JVM
                    try (GradientCollector gc = TorchEngine.engine().newGradientCollector()) {
                        gc.backward(w.mul(c).sum()); // d/dw = c
                    }
                }
                try (NDArray g = w.getGradient()) {
                    ranks.get(rank).allreduceMean(List.of(g));
                }
                try (NDArray again = w.getGradient()) { // a fresh handle: the parameter's own .grad
                    return again.toFloatArray();
                }
            }
        });
        assertArrayEquals(new float[] {1.5f, 10, -3, 0.5f, 3.5f}, grads.get(0));
        assertArrayEquals(grads.get(0), grads.get(1));
        closeAll(ranks);
    }

    @Test
    void broadcastGivesEveryRankTheRootsValuesInPlace() throws Exception {
        List<TcpCollective> ranks = ring(3, TcpCollective.Options.of(TIMEOUT).withBucketBytes(4 << 10));
        List<float[][]> results = onAll(ranks, rank -> {
            try (NDManager m = TorchEngine.newManager()) {
                List<NDArray> tensors = tensors(m, rank);
                tensors.get(4).setRequiresGradient(true); // a parameter value: written in place, stays trainable
                ranks.get(rank).broadcast(tensors, 1);
                assertTrue(tensors.get(4).hasGradient());
                return tensors.stream().map(NDArray::toFloatArray).toArray(float[][]::new);
            }
        });
        for (int i = 0; i < SIZES.length; i++) {
            float[] expected = new float[SIZES[i]];
            for (int j = 0; j < expected.length; j++) {
                expected[j] = (float) value(1, i, j);
            }
            for (int r = 0; r < 3; r++) {
                assertArrayEquals(expected, results.get(r)[i], "rank " + r + " tensor " + i);
            }
        }
        closeAll(ranks);
    }

    @Test
    void barrierReleasesNoRankBeforeTheLastArrives() throws Exception {
        List<TcpCollective> ranks = ring(3, TcpCollective.Options.of(TIMEOUT));
        long t0 = System.nanoTime();
        List<Long> left = onAll(ranks, rank -> {
            Thread.sleep(150L * rank);
            ranks.get(rank).barrier();
            return System.nanoTime() - t0;
        });
        for (long l : left) {
            assertTrue(l >= TimeUnit.MILLISECONDS.toNanos(300), "a rank left the barrier after " + l / 1e6 + " ms");
        }
        closeAll(ranks);
    }

    @Test
    void ranksCallingDifferentTensorsFailSayingSo() throws Exception {
        List<TcpCollective> ranks = ring(2, TcpCollective.Options.of(TIMEOUT));
        List<Future<Object>> f = submitAll(ranks, rank -> {
            try (NDManager m = TorchEngine.newManager()) {
                ranks.get(rank).allreduceMean(List.of(m.zeros(new Shape(3 + rank))));
                return null;
            }
        });
        for (Future<Object> r : f) {
            Throwable e = assertThrows(ExecutionException.class, () -> r.get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(CollectiveException.class, e);
            assertTrue(e.getMessage().contains("same collective calls"), e.getMessage());
        }
        closeAll(ranks);
    }

    @Test
    void aPeerThatDiesMidAllreduceFailsTheOthersAtOnceNamingIt() {
        assertTimeoutPreemptively(Duration.ofSeconds(8), () -> {
            for (int world : new int[] {2, 3}) {
                int dead = world - 1;
                List<TcpCollective> ranks = ring(world, TcpCollective.Options.of(TIMEOUT));
                List<Future<Object>> alive = new ArrayList<>();
                for (int r = 0; r < dead; r++) {
                    int rank = r;
                    alive.add(POOL.submit(() -> {
                        try (NDManager m = TorchEngine.newManager()) {
                            ranks.get(rank).allreduceMean(List.of(m.ones(new Shape(4 << 20)))); // 16 MB
                            return null;
                        }
                    }));
                }
                Thread.sleep(200); // the others are inside the allreduce, waiting on the dead rank
                long died = System.nanoTime();
                ranks.get(dead).close();
                List<String> messages = new ArrayList<>();
                for (Future<Object> r : alive) {
                    Throwable e = assertThrows(ExecutionException.class, () -> r.get(5, TimeUnit.SECONDS)).getCause();
                    assertInstanceOf(CollectiveException.class, e);
                    assertTrue(e.getMessage().matches("(?s).*rank \\d+ closed its connection.*"), e.getMessage());
                    messages.add(e.getMessage());
                }
                // Well before the 2 s silence timeout: a closed socket is noticed, not waited out.
                assertTrue(System.nanoTime() - died < TimeUnit.MILLISECONDS.toNanos(1000));
                // The first rank to fail can only have seen the dead one; the others may name a neighbour that gave up.
                assertTrue(messages.stream().anyMatch(s -> s.contains("rank " + dead + " closed")), messages.toString());
                if (world == 2) {
                    assertTrue(messages.get(0).startsWith("rank 0 of 2, allreduce #0"), messages.get(0));
                }
                // A failed ring stays failed.
                Throwable again = assertThrows(CollectiveException.class, () -> ranks.get(0).barrier());
                assertTrue(again.getMessage().contains("failed earlier"), again.getMessage());
                closeAll(ranks);
            }
        });
    }

    /**
     * collective.allreduce_dtype bf16 / fp16 on the ring: half the bytes, every rank bit-identical, and within the
     * 16-bit type's rounding of the exact mean: values divided by W in float32, rounded (error ≤ u·|x|/W each),
     * then W − 1 additions each rounded (≤ u of the partial sum), u = 2^-8 (bf16) or 2^-11 (fp16), so
     * |got − mean| ≤ (W + 1)·u·Σ|x|/W.
     */
    @Test
    void sixteenBitAllreduceIsWithinItsRoundingOfTheFloat32Mean() throws Exception {
        for (AllreduceDtype dtype : List.of(AllreduceDtype.BF16, AllreduceDtype.FP16)) {
            double u = dtype == AllreduceDtype.BF16 ? 0x1p-8 : 0x1p-11;
            int world = 3;
            List<TcpCollective> ranks = ring(world, TcpCollective.Options.of(TIMEOUT).withBucketBytes(16 << 10)
                    .withAllreduceDtype(dtype));
            List<float[][]> results = onAll(ranks, rank -> {
                try (NDManager m = TorchEngine.newManager()) {
                    List<NDArray> tensors = halfRangeTensors(m, rank);
                    ranks.get(rank).allreduceMean(tensors);
                    return tensors.stream().map(NDArray::toFloatArray).toArray(float[][]::new);
                }
            });
            double worstRelative = 0;
            for (int i = 0; i < SIZES.length; i++) {
                float[] got = results.get(0)[i];
                for (int j = 0; j < SIZES[i]; j++) {
                    double sum = 0;
                    double abs = 0;
                    for (int r = 0; r < world; r++) {
                        double v = halfRangeValue(r, i, j);
                        sum += v;
                        abs += Math.abs(v);
                    }
                    double bound = (world + 1) * u * abs / world;
                    assertEquals(sum / world, got[j], bound, dtype + " tensor " + i + " [" + j + "]");
                    worstRelative = Math.max(worstRelative, Math.abs(got[j] - sum / world) / (abs / world));
                }
                for (int r = 1; r < world; r++) {
                    assertArrayEquals(got, results.get(r)[i], dtype + ": rank " + r + " differs from rank 0");
                }
            }
            // Not exact: the values really went through 16 bits.
            assertTrue(worstRelative > u / 64, dtype + ": worst relative error " + worstRelative);
            System.out.printf("allreduce %s, world %d: worst |error| / mean|x| = %.3g (bound %.3g)%n", dtype, world,
                    worstRelative, (world + 1) * u);
            closeAll(ranks);
        }
    }

    @Test
    void ranksBroadcastingFromDifferentRootsFailNamingBoth() throws Exception {
        List<TcpCollective> ranks = ring(2, TcpCollective.Options.of(TIMEOUT));
        List<Future<Object>> f = submitAll(ranks, rank -> {
            try (NDManager m = TorchEngine.newManager()) {
                ranks.get(rank).broadcast(List.of(m.zeros(new Shape(4))), rank); // each rank thinks it is the root
                return null;
            }
        });
        for (int rank = 0; rank < 2; rank++) {
            Future<Object> r = f.get(rank);
            Throwable e = assertThrows(ExecutionException.class, () -> r.get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(CollectiveException.class, e);
            int other = 1 - rank;
            assertTrue(e.getMessage().contains("rank " + other + " called broadcast from rank " + other
                    + " #0 over 16 bytes, this rank broadcast from rank " + rank + " #0 over 16 bytes"), e.getMessage());
        }
        closeAll(ranks);
    }

    @Test
    void ranksWithDifferentAllreduceDtypesFailSayingSo() throws Exception {
        List<TcpCollective.Endpoint> endpoints = List.of(TcpCollective.listen("127.0.0.1"),
                TcpCollective.listen("127.0.0.1"));
        List<String> peers = endpoints.stream().map(TcpCollective.Endpoint::address).toList();
        Future<TcpCollective> r0 = POOL.submit(() -> endpoints.get(0).connect(0, peers, TcpCollective.Options.of(TIMEOUT)));
        Future<TcpCollective> r1 = POOL.submit(() -> endpoints.get(1).connect(1, peers,
                TcpCollective.Options.of(TIMEOUT).withAllreduceDtype(AllreduceDtype.BF16)));
        List<TcpCollective> ranks = List.of(r0.get(10, TimeUnit.SECONDS), r1.get(10, TimeUnit.SECONDS));
        Exception e = assertThrows(Exception.class, () -> onAll(ranks, rank -> {
            try (NDManager m = TorchEngine.newManager()) {
                ranks.get(rank).allreduceMean(List.of(m.ones(new Shape(10))));
                return null;
            }
        }));
        assertTrue(e.getMessage().contains("every rank must make the same collective calls"), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*called allreduce in (float32|bfloat16) #0 over \\d+ bytes, this rank "
                + "allreduce in (bfloat16|float32) #0.*"), e.getMessage());
        closeAll(ranks);
    }

    /** Spark kills a task by interrupting its thread: a rank waiting on a silent peer stops at once. */
    @Test
    void anInterruptedRankStopsAtOnceNotAtTheTimeout() throws Exception {
        List<TcpCollective> ranks = ring(2, TcpCollective.Options.of(Duration.ofSeconds(60)));
        try (NDManager m = TorchEngine.newManager()) {
            Thread waiter = Thread.currentThread();
            Future<?> interrupter = POOL.submit(() -> {
                Thread.sleep(300);
                waiter.interrupt();
                return null;
            });
            long t0 = System.nanoTime();
            // Rank 1 never calls: rank 0 would wait 60 s for it.
            CollectiveException e = assertThrows(CollectiveException.class,
                    () -> ranks.get(0).allreduceMean(List.of(m.ones(new Shape(100_000)))));
            double waited = (System.nanoTime() - t0) / 1e9;
            assertTrue(Thread.interrupted(), "the interrupt status is kept for the caller");
            interrupter.get(5, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("interrupted (the task was killed)"), e.getMessage());
            assertTrue(e.getMessage().startsWith("rank 0 of 2, allreduce #0"), e.getMessage());
            assertTrue(waited < 10, "stopped after " + waited + " s");
        } finally {
            closeAll(ranks);
        }
    }

    @Test
    void aSilentPeerIsATimeoutNotAHang() {
        assertTimeoutPreemptively(Duration.ofSeconds(8), () -> {
            // Rank 1 is a bare socket: it connects and says hello, then never sends or reads anything.
            TcpCollective.Endpoint real = TcpCollective.listen("127.0.0.1");
            try (ServerSocket fakeServer = new ServerSocket(0, 4, java.net.InetAddress.getLoopbackAddress())) {
                List<String> peers = List.of(real.address(), "127.0.0.1:" + fakeServer.getLocalPort());
                Future<TcpCollective> rank0 = POOL.submit(() -> real.connect(0, peers,
                        TcpCollective.Options.of(TIMEOUT)));
                Socket fromRank0 = fakeServer.accept();
                Socket toRank0 = new Socket();
                toRank0.connect(TcpCollective.parse(real.address()));
                ByteBuffer hello = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(0x44495448).putInt(2)
                        .putInt(1);
                toRank0.getOutputStream().write(hello.array());
                try (TcpCollective c = rank0.get(5, TimeUnit.SECONDS); NDManager m = TorchEngine.newManager()) {
                    long t0 = System.nanoTime();
                    CollectiveException e = assertThrows(CollectiveException.class,
                            () -> c.allreduceMean(List.of(m.ones(new Shape(1000)))));
                    double waited = (System.nanoTime() - t0) / 1e9;
                    assertTrue(e.getMessage().contains("no data from rank 1 for 2.0 s"), e.getMessage());
                    assertTrue(waited >= 1.9 && waited < 4, "failed after " + waited + " s");
                } finally {
                    fromRank0.close();
                    toRank0.close();
                }
            }
        });
    }

    @Test
    void aPeerThatNeverStartsFailsTheConnectionAfterTheTimeout() throws IOException {
        int unused;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            unused = s.getLocalPort(); // closed again: nobody listens there
        }
        TcpCollective.Endpoint e = TcpCollective.listen("127.0.0.1");
        List<String> peers = List.of(e.address(), "127.0.0.1:" + unused);
        CollectiveException ex = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(
                CollectiveException.class, () -> e.connect(0, peers, TcpCollective.Options.of(Duration.ofSeconds(1)))));
        assertTrue(ex.getMessage().contains("could not connect to rank 1 at 127.0.0.1:" + unused), ex.getMessage());
    }

    // ---- helpers ----

    /** Rank r's value for element j of tensor i: varied signs and magnitudes, exactly representable as float. */
    private static double value(int rank, int tensor, int j) {
        SplittableRandom rnd = new SplittableRandom(rank * 1_000_003L + tensor * 7919L + j);
        return (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-3, 4)));
    }

    private static List<NDArray> tensors(NDManager m, int rank) {
        List<NDArray> out = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            float[] v = new float[SIZES[i]];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) value(rank, i, j);
            }
            out.add(m.create(v, i == 6 ? new Shape(7, 10_001) : new Shape(v.length))); // 70,007 = 7 × 10,001
        }
        return out;
    }

    /** Values for the 16-bit wire: mixed signs, magnitudes 1e-3..1e3 (inside fp16's normal range after /W). */
    private static double halfRangeValue(int rank, int tensor, int j) {
        SplittableRandom rnd = new SplittableRandom(rank * 1_000_003L + tensor * 7919L + j + 17);
        return (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-2, 3)));
    }

    private static List<NDArray> halfRangeTensors(NDManager m, int rank) {
        List<NDArray> out = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            float[] v = new float[SIZES[i]];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) halfRangeValue(rank, i, j);
            }
            out.add(m.create(v, new Shape(v.length)));
        }
        return out;
    }

    /** World ranks on loopback, connected concurrently as real workers would. */
    static List<TcpCollective> ring(int world, TcpCollective.Options options) throws Exception {
        List<TcpCollective.Endpoint> endpoints = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            endpoints.add(TcpCollective.listen("127.0.0.1"));
        }
        List<String> peers = endpoints.stream().map(TcpCollective.Endpoint::address).toList();
        List<Future<TcpCollective>> f = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            int rank = r;
            f.add(POOL.submit(() -> endpoints.get(rank).connect(rank, peers, options)));
        }
        List<TcpCollective> out = new ArrayList<>();
        for (Future<TcpCollective> c : f) {
            out.add(c.get(10, TimeUnit.SECONDS));
        }
        return out;
    }

    private interface RankTask<T> {
        T run(int rank) throws Exception;
    }

    private static <T> List<Future<T>> submitAll(List<TcpCollective> ranks, RankTask<T> task) {
        List<Future<T>> f = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            int rank = r;
            f.add(POOL.submit((Callable<T>) () -> task.run(rank)));
        }
        return f;
    }

    private static <T> List<T> onAll(List<TcpCollective> ranks, RankTask<T> task) throws Exception {
        List<T> out = new ArrayList<>();
        for (Future<T> f : submitAll(ranks, task)) {
            try {
                out.add(f.get(30, TimeUnit.SECONDS));
            } catch (ExecutionException e) {
                closeAll(ranks);
                throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
            }
        }
        return out;
    }

    private static void closeAll(List<TcpCollective> ranks) {
        ranks.forEach(TcpCollective::close);
    }
}
