package dev.ditspark.core.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.collective.TcpCollective;
import dev.ditspark.core.engine.TorchEngine;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Allreduce bandwidth of the {@code tcp} ring on loopback (W ranks as threads of this JVM, through the
 * {@code Collective} API on float32 tensors, so the host copies are counted), next to a plain socket copy of
 * the same bytes between two threads; then the ring model's allreduce time for DiT-XL/2's gradients on 8–64
 * GPUs from given link figures. Prints figures; asserts nothing.
 *
 * <p>Algorithm bandwidth = bytes / time; bus bandwidth = 2(W − 1)/W · bytes / time (nccl-tests' definition:
 * what each link carries, comparable across W and with a link's raw speed).
 *
 * <p>Usage: {@code AllreduceBenchmark [sizes MB, e.g. 1,16,64] [worlds, e.g. 2,4] [repeats]}.
 */
public final class AllreduceBenchmark {
    /** DiT-XL/2's trainable parameters (docs/model.md: 675M), float32 gradients. */
    public static final long DIT_XL2_GRADIENT_BYTES = 675_000_000L * 4;

    /** Best-of-repeats seconds for one allreduce of {@code bytes} over {@code world} ranks, and the copy's. */
    public record Result(int world, long bytes, double seconds) {
        public double algorithmGBps() {
            return bytes / seconds / 1e9;
        }

        public double busGBps() {
            return 2.0 * (world - 1) / world * bytes / seconds / 1e9;
        }
    }

    private AllreduceBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizesMb = args.length > 0 ? parse(args[0]) : new int[] {1, 4, 16, 64, 256};
        int[] worlds = args.length > 1 ? parse(args[1]) : new int[] {2, 4};
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        PrintWriter out = new PrintWriter(System.out, true);
        run(sizesMb, worlds, repeats, out);
        printModel(out);
        out.flush();
    }

    public static void run(int[] sizesMb, int[] worlds, int repeats, PrintWriter out) throws Exception {
        out.printf(Locale.ROOT, "tcp ring allreduce on loopback, %d cores, best of %d%n",
                Runtime.getRuntime().availableProcessors(), repeats);
        out.printf(Locale.ROOT, "%8s %6s %10s %12s %12s %14s%n", "MB", "ranks", "ms", "algbw GB/s", "busbw GB/s",
                "socket copy GB/s");
        for (int mb : sizesMb) {
            long bytes = (long) mb << 20;
            double copy = socketCopySeconds(bytes, repeats);
            for (int w : worlds) {
                Result r = allreduce(w, bytes, repeats);
                out.printf(Locale.ROOT, "%8d %6d %10.1f %12.2f %12.2f %14.2f%n", mb, w, r.seconds() * 1e3,
                        r.algorithmGBps(), r.busGBps(), bytes / copy / 1e9);
            }
        }
    }

    /** One float32 tensor of {@code bytes} per rank, allreduced {@code repeats} times after a warm-up. */
    public static Result allreduce(int world, long bytes, int repeats) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(world);
        List<TcpCollective.Endpoint> endpoints = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            endpoints.add(TcpCollective.listen("127.0.0.1"));
        }
        List<String> peers = endpoints.stream().map(TcpCollective.Endpoint::address).toList();
        try {
            List<Future<double[]>> f = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                f.add(pool.submit(() -> {
                    try (TcpCollective c = endpoints.get(rank).connect(rank, peers,
                            TcpCollective.Options.of(Duration.ofSeconds(120)));
                            NDManager m = TorchEngine.newManager()) {
                        NDArray t = m.ones(new Shape(bytes / 4));
                        List<NDArray> list = List.of(t);
                        double[] s = new double[repeats];
                        c.allreduceMean(list);
                        for (int i = 0; i < repeats; i++) {
                            c.barrier();
                            long t0 = System.nanoTime();
                            c.allreduceMean(list);
                            s[i] = (System.nanoTime() - t0) / 1e9;
                        }
                        return s;
                    }
                }));
            }
            double[] slowest = new double[repeats];
            for (Future<double[]> x : f) {
                double[] s = x.get();
                for (int i = 0; i < repeats; i++) {
                    slowest[i] = Math.max(slowest[i], s[i]);
                }
            }
            return new Result(world, bytes, Arrays.stream(slowest).min().orElseThrow());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Seconds to push {@code bytes} from one thread to another over a loopback socket (direct buffers). */
    public static double socketCopySeconds(long bytes, int repeats) throws IOException, InterruptedException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            double best = Double.MAX_VALUE;
            for (int i = 0; i <= repeats; i++) {
                Thread reader;
                long[] got = new long[1];
                try (SocketChannel writer = SocketChannel.open(server.getLocalAddress());
                        SocketChannel in = server.accept()) {
                    reader = new Thread(() -> {
                        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                        try {
                            while (got[0] < bytes) {
                                buf.clear();
                                got[0] += in.read(buf);
                            }
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    });
                    ByteBuffer src = ByteBuffer.allocateDirect((int) Math.min(bytes, 64 << 20));
                    long t0 = System.nanoTime();
                    reader.start();
                    for (long sent = 0; sent < bytes; ) {
                        src.clear().limit((int) Math.min(src.capacity(), bytes - sent));
                        sent += writer.write(src);
                    }
                    reader.join();
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (i > 0) {
                        best = Math.min(best, s); // the first is a warm-up
                    }
                }
            }
            return best;
        }
    }

    /** Ring model: time = 2(W − 1)/W · bytes / busbw + 2(W − 1) · latency. */
    public static double ringSeconds(int world, long bytes, double busGBps, double latencySeconds) {
        return 2.0 * (world - 1) / world * bytes / (busGBps * 1e9) + 2.0 * (world - 1) * latencySeconds;
    }

    /**
     * Predicted allreduce time of DiT-XL/2's gradients (2.7 GB) for 8–64 GPUs, 8 per node: within a node the
     * NVLink bus bandwidth; across nodes a ring is limited by the node's network bandwidth (NCCL runs one ring
     * per NIC, so the figure is the node's NICs together).
     */
    public static void printModel(PrintWriter out) {
        double[] nvlinkGBps = {150, 400};
        double[][] nics = {{1, 100}, {1, 400}, {8, 400}}; // NICs per node × Gb/s
        out.printf(Locale.ROOT, "%nring model: allreduce of DiT-XL/2 gradients, %.2f GB float32, 8 GPUs per node,"
                + " latency 5 us/hop in a node, 10 us across nodes%n", DIT_XL2_GRADIENT_BYTES / 1e9);
        out.printf(Locale.ROOT, "%6s %-26s %10s %10s%n", "GPUs", "links", "busbw GB/s", "time ms");
        for (int w : new int[] {8, 16, 32, 64}) {
            for (double nv : nvlinkGBps) {
                if (w == 8) {
                    out.printf(Locale.ROOT, "%6d %-26s %10.0f %10.1f%n", w, String.format(Locale.ROOT,
                            "NVLink %.0f GB/s", nv), nv, ringSeconds(w, DIT_XL2_GRADIENT_BYTES, nv, 5e-6) * 1e3);
                    continue;
                }
                for (double[] nic : nics) {
                    double bus = Math.min(nv, nic[0] * nic[1] / 8);
                    out.printf(Locale.ROOT, "%6d %-26s %10.1f %10.1f%n", w, String.format(Locale.ROOT,
                            "NVLink %.0f, %.0fx%.0f Gb/s NIC", nv, nic[0], nic[1]), bus,
                            ringSeconds(w, DIT_XL2_GRADIENT_BYTES, bus, 10e-6) * 1e3);
                }
            }
        }
    }

    private static int[] parse(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
