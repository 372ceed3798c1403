package dev.ditspark.core.checkpoint;

import dev.ditspark.core.weights.RandomAccessSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Positioned reads of a file on any Hadoop FileSystem (file://, hdfs://, s3a://) for the safetensors reader. */
public final class HadoopSource implements RandomAccessSource {
    private static final int CHUNK = 8 << 20;
    private final FSDataInputStream in;
    private final long size;

    public HadoopSource(FileSystem fs, Path path) throws IOException {
        this.size = fs.getFileStatus(path).getLen();
        this.in = fs.open(path);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
        byte[] buf = new byte[Math.min(CHUNK, dst.remaining())];
        long pos = position;
        while (dst.hasRemaining()) {
            int n = Math.min(buf.length, dst.remaining());
            in.readFully(pos, buf, 0, n);
            dst.put(buf, 0, n);
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
