package dev.ditspark.core.collective;

import ai.djl.ndarray.NDArray;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The {@code tcp} backend: a ring over plain sockets, in Java, for CPU workers (and tests). Each rank connects
 * to rank + 1 and accepts rank − 1; allreduce is {@link RingAllreduce} over host buckets of fused tensors
 * ({@link TensorBuckets}), broadcast is {@link RingBroadcast}, barrier a one-float allreduce.
 *
 * <p>Bootstrap in two halves so the addresses can travel through any rendezvous (Spark's
 * {@code BarrierTaskContext.allGather}): {@link #listen} binds a port, then {@link Endpoint#connect} is
 * given every rank's address in rank order. Peers may start at different times: connecting retries until
 * the timeout. A peer that closes a connection fails the operation at once, naming it; one that stays silent
 * fails it after {@link Options#timeout} without any byte moving. After a failure the collective is closed
 * and every later call fails too. One operation at a time.
 */
public final class TcpCollective implements Collective {
    private static final Logger LOG = LogManager.getLogger(TcpCollective.class);
    private static final int HELLO = 0x44495448;

    /**
     * The silence timeout, the fusion bucket size (Horovod's default fusion threshold is 64 MB, DDP's 25 MB) and
     * the type values travel in during an allreduce ({@link AllreduceDtype}).
     */
    public record Options(Duration timeout, long bucketBytes, AllreduceDtype allreduceDtype) {
        public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

        public Options {
            if (allreduceDtype == null) {
                throw new IllegalArgumentException("collective allreduce dtype must be given");
            }
            if (timeout == null || timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("collective timeout must be positive, got " + timeout);
            }
            if (bucketBytes <= 0) {
                throw new IllegalArgumentException("collective bucket bytes must be positive, got " + bucketBytes);
            }
        }

        public static Options of(Duration timeout) {
            return new Options(timeout, DEFAULT_BUCKET_BYTES, AllreduceDtype.FP32);
        }

        public Options withBucketBytes(long bytes) {
            return new Options(timeout, bytes, allreduceDtype);
        }

        public Options withAllreduceDtype(AllreduceDtype dtype) {
            return new Options(timeout, bucketBytes, dtype);
        }
    }

    /** Binds a server socket on {@code host}, port 0 (any free port); {@link Endpoint#address} says which. */
    public static Endpoint listen(String host) {
        try {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(host, 0), 16);
            return new Endpoint(server, host);
        } catch (IOException e) {
            throw new UncheckedIOException("collective: cannot listen on " + host + ": " + e.getMessage(), e);
        }
    }

    /** A bound, not yet connected rank. */
    public static final class Endpoint implements AutoCloseable {
        private final ServerSocketChannel server;
        private final String address;

        private Endpoint(ServerSocketChannel server, String host) throws IOException {
            this.server = server;
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            this.address = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }

        /** {@code host:port} ({@code [v6]:port}) for the other ranks. */
        public String address() {
            return address;
        }

        /**
         * Joins the ring as {@code rank} of {@code peers.size()}; {@code peers} holds every rank's
         * {@link #address} in rank order. Returns when both ring connections are up; fails after the timeout
         * naming the rank that could not be reached. The endpoint is closed afterwards either way.
         */
        public TcpCollective connect(int rank, List<String> peers, Options options) {
            int world = peers.size();
            try (server) {
                if (rank < 0 || rank >= world) {
                    throw new IllegalArgumentException("collective: rank " + rank + " outside 0.." + (world - 1));
                }
                if (!peers.get(rank).equals(address)) {
                    throw new IllegalArgumentException("collective: peers[" + rank + "] is " + peers.get(rank)
                            + " but this rank listens on " + address);
                }
                if (world == 1) {
                    return new TcpCollective(rank, 1, null, options);
                }
                long timeoutNanos = options.timeout().toNanos();
                long deadline = System.nanoTime() + timeoutNanos;
                int next = (rank + 1) % world;
                int prev = (rank + world - 1) % world;
                SocketChannel toNext = connectWithRetry(rank, next, peers.get(next), world, deadline);
                SocketChannel fromPrev;
                try {
                    fromPrev = acceptFrom(rank, prev, world, deadline);
                } catch (RuntimeException e) {
                    closeQuietly(toNext);
                    throw e;
                }
                LOG.info("rank {}/{}: ring connected (sends to rank {} at {}, receives from rank {})", rank, world,
                        next, peers.get(next), prev);
                return new TcpCollective(rank, world, new RingLink(rank, world, toNext, fromPrev, timeoutNanos),
                        options);
            } catch (IOException e) {
                throw new UncheckedIOException("collective: rank " + rank + ": " + e.getMessage(), e);
            }
        }

        private SocketChannel connectWithRetry(int rank, int peer, String address, int world, long deadline)
                throws IOException {
            InetSocketAddress target = parse(address);
            IOException last;
            while (true) {
                SocketChannel ch = SocketChannel.open();
                try {
                    long remainingMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                    ch.socket().connect(target, (int) Math.min(remainingMs, 10_000));
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer hello = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                    hello.putInt(HELLO).putInt(world).putInt(rank).flip();
                    while (hello.hasRemaining()) {
                        ch.write(hello);
                    }
                    return ch;
                } catch (IOException e) {
                    closeQuietly(ch);
                    last = e;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CollectiveException("rank " + rank + " of " + world + ": could not connect to rank "
                            + peer + " at " + address + " within the timeout: " + last.getMessage(), last);
                }
                sleep(Math.min(200, left / 1_000_000 + 1)); // the peer may not be listening yet
            }
        }

        /** Accepts until rank {@code prev} of this world says hello; anything else is dropped. */
        private SocketChannel acceptFrom(int rank, int prev, int world, long deadline) throws IOException {
            server.configureBlocking(false);
            try (Selector selector = Selector.open()) {
                server.register(selector, SelectionKey.OP_ACCEPT);
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new CollectiveException("rank " + rank + " of " + world + ": rank " + prev
                                + " did not connect within the timeout (it is dead, stuck, or not started)");
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                    SocketChannel ch = server.accept();
                    if (ch == null) {
                        continue;
                    }
                    try {
                        ch.configureBlocking(true);
                        ch.socket().setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                        DataInputStream in = new DataInputStream(ch.socket().getInputStream());
                        int magic = Integer.reverseBytes(in.readInt());
                        int theirWorld = Integer.reverseBytes(in.readInt());
                        int theirRank = Integer.reverseBytes(in.readInt());
                        if (magic == HELLO && theirWorld == world && theirRank == prev) {
                            ch.socket().setSoTimeout(0);
                            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            return ch;
                        }
                        LOG.warn("rank {}/{}: dropped a connection from {} (hello {} world {} rank {}, expected rank {})",
                                rank, world, ch.getRemoteAddress(), Integer.toHexString(magic), theirWorld, theirRank,
                                prev);
                    } catch (SocketTimeoutException e) {
                        LOG.warn("rank {}/{}: dropped a connection that sent no hello", rank, world);
                    } catch (IOException e) {
                        LOG.warn("rank {}/{}: dropped a connection: {}", rank, world, e.toString());
                    }
                    closeQuietly(ch);
                }
            }
        }

        @Override
        public void close() {
            closeQuietly(server);
        }
    }

    private final int rank;
    private final int world;
    private final RingLink link;
    private final RingAllreduce ring;
    private final Options options;
    private ByteBuffer bucket = ByteBuffer.allocateDirect(0);
    private long sequence;
    private volatile RuntimeException broken;
    private volatile boolean closed;

    private TcpCollective(int rank, int world, RingLink link, Options options) {
        this.rank = rank;
        this.world = world;
        this.link = link;
        this.ring = link == null ? null : new RingAllreduce(link);
        this.options = options;
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
        return "tcp";
    }

    public Options options() {
        return options;
    }

    @Override
    public synchronized void allreduceMean(List<NDArray> tensors) {
        List<TensorBuckets.Bucket> buckets = TensorBuckets.plan(tensors, options.bucketBytes());
        if (world == 1) {
            return;
        }
        usable();
        long seq = sequence++;
        AllreduceDtype dtype = options.allreduceDtype();
        for (int i = 0; i < buckets.size(); i++) {
            TensorBuckets.Bucket b = buckets.get(i);
            ByteBuffer buf = bucket(b.bytes());
            TensorBuckets.gather(tensors, b, buf);
            int count = (int) (b.bytes() / 4);
            long wireBytes = (long) count * dtype.bytes();
            if (dtype != AllreduceDtype.FP32) {
                HalfWire.compress(buf, count, world, dtype); // x / W in float32, rounded to 16 bits, in place
            }
            run(String.format(Locale.ROOT, "allreduce #%d bucket %d/%d (%.1f MB %s)", seq, i + 1, buckets.size(),
                    wireBytes / 1e6, dtype.configName()), () -> {
                // The dtype is part of the agreement: ranks configured differently fail instead of mixing types.
                link.checkAgreement(OpTag.allreduce(dtype), seq, wireBytes);
                if (dtype == AllreduceDtype.FP32) {
                    ring.mean(buf, count);
                } else {
                    ring.sum16(buf, count, dtype);
                }
            });
            if (dtype != AllreduceDtype.FP32) {
                HalfWire.expand(buf, count, dtype);
            }
            TensorBuckets.scatter(buf, tensors, b);
        }
    }

    @Override
    public synchronized void broadcast(List<NDArray> tensors, int root) {
        if (root < 0 || root >= world) {
            throw new IllegalArgumentException("collective: broadcast root " + root + " outside 0.." + (world - 1));
        }
        List<TensorBuckets.Bucket> buckets = TensorBuckets.plan(tensors, options.bucketBytes());
        if (world == 1) {
            return;
        }
        usable();
        long seq = sequence++;
        for (int i = 0; i < buckets.size(); i++) {
            TensorBuckets.Bucket b = buckets.get(i);
            ByteBuffer buf = bucket(b.bytes());
            if (rank == root) {
                TensorBuckets.gather(tensors, b, buf);
            }
            run(String.format(Locale.ROOT, "broadcast #%d from rank %d bucket %d/%d (%.1f MB)", seq, root, i + 1,
                    buckets.size(), b.bytes() / 1e6), () -> {
                link.checkAgreement(OpTag.broadcast(root), seq, b.bytes());
                RingBroadcast.broadcast(link, buf, (int) b.bytes(), root);
            });
            if (rank != root) {
                TensorBuckets.scatter(buf, tensors, b);
            }
        }
    }

    @Override
    public synchronized void barrier() {
        if (world == 1) {
            return;
        }
        usable();
        long seq = sequence++;
        ByteBuffer one = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
        run("barrier #" + seq, () -> {
            link.checkAgreement(OpTag.barrier(), seq, 4);
            ring.mean(one, 1); // every rank's float is in the result: nobody leaves before all have arrived
        });
    }

    /**
     * Runs one ring operation; any failure closes the ring (so the neighbours fail at once instead of at their
     * timeout) and is kept for later calls.
     */
    private void run(String what, Runnable op) {
        link.begin(what);
        try {
            op.run();
        } catch (RuntimeException e) {
            RuntimeException failure = closed && !(e instanceof CollectiveException)
                    ? new CollectiveException("rank " + rank + " of " + world + ", " + what + ": closed during the operation", e)
                    : e;
            broken = failure;
            link.close();
            throw failure;
        }
    }

    private void usable() {
        if (broken != null) {
            throw new CollectiveException("rank " + rank + " of " + world + ": the ring failed earlier: "
                    + broken.getMessage(), broken);
        }
        if (closed) {
            throw new IllegalStateException("collective: rank " + rank + " is closed");
        }
    }

    private ByteBuffer bucket(long bytes) {
        if (bucket.capacity() < bytes) {
            bucket = ByteBuffer.allocateDirect((int) Math.max(bytes, Math.min(options.bucketBytes(), Integer.MAX_VALUE - 8)))
                    .order(ByteOrder.nativeOrder());
        }
        return bucket;
    }

    /** Closes both ring connections; safe from another thread (an operation in progress then fails). */
    @Override
    public void close() {
        closed = true;
        if (link != null) {
            link.close();
        }
    }

    static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("collective: peer address '" + address + "' is not host:port");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("collective: peer address '" + address + "' has no port number", e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("collective: interrupted while connecting", e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort while failing
        }
    }
}
