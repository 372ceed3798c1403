package dev.ditspark.core.weights;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Positional, read-only access to a byte sequence of known length: a local file here, and later
 * anything with positioned reads (such as a Hadoop {@code FSDataInputStream}), without this package
 * depending on it.
 *
 * <p>{@link SafetensorsFile} never reads the whole source into one array and is safe for
 * concurrent reads exactly when the source's {@link #readFully} is.
 */
public interface RandomAccessSource extends Closeable {

    /** Total length in bytes. */
    long size() throws IOException;

    /**
     * Reads exactly {@code dst.remaining()} bytes starting at {@code position} into {@code dst},
     * advancing its position; must not depend on or move any shared "current position".
     *
     * @throws EOFException if the source ends before {@code dst} is full
     */
    void readFully(long position, ByteBuffer dst) throws IOException;

    /**
     * A source backed by {@code channel}'s positional reads, which are thread-safe. Closing the
     * source closes the channel. Note that a {@link FileChannel} closes itself when a thread
     * blocked in it is interrupted, after which every reader of it fails.
     */
    static RandomAccessSource of(FileChannel channel) {
        Objects.requireNonNull(channel, "channel");
        return new RandomAccessSource() {
            @Override
            public long size() throws IOException {
                return channel.size();
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                long pos = position;
                while (dst.hasRemaining()) {
                    int n = channel.read(dst, pos);
                    if (n < 0) {
                        throw new EOFException("end of file at byte " + pos + " with "
                                + dst.remaining() + " bytes still to read");
                    }
                    pos += n;
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    /** Opens {@code path} read-only as a source. */
    static RandomAccessSource open(Path path) throws IOException {
        return of(FileChannel.open(path, StandardOpenOption.READ));
    }
}
