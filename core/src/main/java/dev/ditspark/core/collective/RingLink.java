package dev.ditspark.core.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Locale;

/**
 * This rank's two ring connections: it sends to rank + 1 and receives from rank − 1, both non-blocking under
 * one selector, so sending and receiving overlap in one thread. Every wait has a deadline: if no byte moves
 * for the timeout, the wait fails naming the peer it was waiting for; a peer closing either connection fails
 * it at once. The connection to the next rank carries no data back, so its becoming readable means that peer
 * closed it (or died).
 */
final class RingLink implements AutoCloseable {
    private final int rank;
    private final int world;
    private final SocketChannel toNext;
    private final SocketChannel fromPrev;
    private final Selector selector;
    private final SelectionKey nextKey;
    private final SelectionKey prevKey;
    private final long timeoutNanos;
    private final ByteBuffer probe = ByteBuffer.allocate(64);
    private long lastProgress;
    private boolean nextClosed;
    private String operation = "set-up";

    RingLink(int rank, int world, SocketChannel toNext, SocketChannel fromPrev, long timeoutNanos) throws IOException {
        this.rank = rank;
        this.world = world;
        this.toNext = toNext;
        this.fromPrev = fromPrev;
        this.timeoutNanos = timeoutNanos;
        toNext.configureBlocking(false);
        fromPrev.configureBlocking(false);
        selector = Selector.open();
        nextKey = toNext.register(selector, SelectionKey.OP_READ);
        prevKey = fromPrev.register(selector, 0);
    }

    int rank() {
        return rank;
    }

    int worldSize() {
        return world;
    }

    int nextRank() {
        return (rank + 1) % world;
    }

    int prevRank() {
        return (rank + world - 1) % world;
    }

    /** Starts an operation: names it in errors and restarts the silence clock. */
    void begin(String what) {
        operation = what;
        lastProgress = System.nanoTime();
    }

    /** Writes what the socket takes now from {@code src}; 0 when its buffer is full. */
    int write(ByteBuffer src) {
        try {
            int n = toNext.write(src);
            if (n > 0) {
                lastProgress = System.nanoTime();
            }
            return n;
        } catch (ClosedByInterruptException e) {
            throw fail("interrupted (the task was killed)", e);
        } catch (IOException e) {
            throw closedBy(nextRank(), e); // broken pipe, connection reset
        }
    }

    /** Reads what has arrived into {@code dst}; 0 when nothing has. */
    int read(ByteBuffer dst) {
        int n;
        try {
            n = fromPrev.read(dst);
        } catch (ClosedByInterruptException e) {
            throw fail("interrupted (the task was killed)", e);
        } catch (IOException e) {
            throw closedBy(prevRank(), e);
        }
        if (n < 0) {
            throw closedBy(prevRank(), null);
        }
        if (n > 0) {
            lastProgress = System.nanoTime();
        }
        return n;
    }

    /**
     * Blocks until the next rank can take bytes ({@code wantWrite}) or the previous one has sent some
     * ({@code wantRead}); fails when the previous rank closes, when the next one closes while this operation
     * still has bytes for it ({@code sendsLeft}), or when nothing has moved for the timeout. (A next rank that
     * has received everything may finish and close before this rank has read its last bytes.)
     */
    void await(boolean wantWrite, boolean wantRead, boolean sendsLeft) {
        if (!wantWrite && !wantRead) {
            throw new IllegalStateException("await with nothing to wait for");
        }
        if (Thread.currentThread().isInterrupted()) {
            // Spark kills a task by interrupting it: stop now, not after the silence timeout.
            throw fail("interrupted (the task was killed)", null);
        }
        long remaining = lastProgress + timeoutNanos - System.nanoTime();
        if (remaining <= 0) {
            throw fail(wantRead
                    ? String.format(Locale.ROOT, "no data from rank %d for %.1f s", prevRank(), timeoutNanos / 1e9)
                    : String.format(Locale.ROOT, "rank %d took no data for %.1f s", nextRank(), timeoutNanos / 1e9)
                    + " (it is dead, stuck, or busy longer than collective.timeout_seconds)", null);
        }
        try {
            nextKey.interestOps((nextClosed ? 0 : SelectionKey.OP_READ) | (wantWrite ? SelectionKey.OP_WRITE : 0));
            prevKey.interestOps(wantRead ? SelectionKey.OP_READ : 0);
            selector.select(Math.max(1, remaining / 1_000_000));
        } catch (IOException | RuntimeException e) {
            throw fail("waiting on the ring failed: " + e, e);
        }
        if (nextKey.isValid() && nextKey.isReadable() && !nextClosed) {
            checkNextStillOpen(sendsLeft);
        }
        selector.selectedKeys().clear();
    }

    /** Sends {@code out} to the next rank while receiving {@code in} from the previous one, both completely. */
    void exchange(ByteBuffer out, ByteBuffer in) {
        while (out.hasRemaining() || in.hasRemaining()) {
            boolean moved = out.hasRemaining() && write(out) > 0;
            moved |= in.hasRemaining() && read(in) > 0;
            if (!moved) {
                await(out.hasRemaining(), in.hasRemaining(), out.hasRemaining());
            }
        }
    }

    /**
     * Every operation opens with a 28-byte header around the ring (magic, the operation's {@link OpTag}, sequence
     * number, payload bytes): ranks that call different operations, or the same one with different tensors, dtype or
     * root, fail with a message saying so instead of reading each other's bytes as floats.
     */
    void checkAgreement(OpTag tag, long sequence, long bytes) {
        ByteBuffer out = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x44495452).putInt(tag.kindOnWire()).putInt(tag.argument()).putLong(sequence).putLong(bytes).flip();
        ByteBuffer in = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        exchange(out, in);
        in.flip();
        int magic = in.getInt();
        int theirKind = in.getInt();
        int theirArgument = in.getInt();
        long theirSeq = in.getLong();
        long theirBytes = in.getLong();
        OpTag theirs = OpTag.fromWire(theirKind, theirArgument);
        if (magic != 0x44495452 || !tag.equals(theirs) || theirSeq != sequence || theirBytes != bytes) {
            throw fail(String.format(Locale.ROOT, "rank %d called %s #%d over %d bytes, this rank %s #%d over %d bytes:"
                    + " every rank must make the same collective calls with tensors of the same shapes in the same"
                    + " order", prevRank(), OpTag.describe(theirs, theirKind, theirArgument), theirSeq, theirBytes, tag,
                    sequence, bytes), null);
        }
    }

    private void checkNextStillOpen(boolean sendsLeft) {
        int n;
        try {
            probe.clear();
            n = toNext.read(probe);
        } catch (IOException e) { // reset
            nextClosed = true;
            if (sendsLeft) {
                throw closedBy(nextRank(), e);
            }
            return;
        }
        if (n < 0) {
            nextClosed = true;
            if (sendsLeft) {
                throw closedBy(nextRank(), null);
            }
        }
        if (n > 0) {
            throw fail("rank " + nextRank() + " sent data on the send-only connection (protocol error)", null);
        }
    }

    private CollectiveException closedBy(int peer, IOException e) {
        return fail("rank " + peer + " closed its connection (it failed, was stopped, or gave up after another"
                + " rank's failure)" + (e == null ? "" : ": " + e.getMessage()), e);
    }

    CollectiveException fail(String what, Throwable cause) {
        return new CollectiveException("rank " + rank + " of " + world + ", " + operation + ": " + what, cause);
    }

    /** Closes both connections at once, so the neighbours notice immediately rather than after their timeout. */
    @Override
    public void close() {
        for (AutoCloseable c : new AutoCloseable[] {toNext, fromPrev, selector}) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing after a failure: nothing more to report
            }
        }
    }
}
