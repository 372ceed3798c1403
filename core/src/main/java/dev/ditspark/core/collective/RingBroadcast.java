package dev.ditspark.core.collective;

import java.nio.ByteBuffer;

/**
 * Broadcast as a pipeline round the ring: the root sends, every other rank stores what arrives and forwards
 * it at once to the next rank (except the one before the root), so W − 1 hops cost about one transfer plus
 * W − 2 small delays, not W − 1 transfers.
 */
final class RingBroadcast {
    private RingBroadcast() {
    }

    /** Replaces {@code bytes} bytes of {@code data} from index 0 with the root's. */
    static void broadcast(RingLink link, ByteBuffer data, int bytes, int root) {
        int w = link.worldSize();
        if (w == 1 || bytes == 0) {
            return;
        }
        int hop = Math.floorMod(link.rank() - root, w); // 0 = root
        boolean receives = hop != 0;
        boolean sends = hop != w - 1;
        ByteBuffer in = data.duplicate();
        ByteBuffer out = data.duplicate();
        int received = receives ? 0 : bytes;
        int sent = sends ? 0 : bytes;
        while (received < bytes || sent < bytes) {
            boolean moved = false;
            if (sent < received) {
                out.limit(received).position(sent);
                int n = link.write(out);
                sent += n;
                moved = n > 0;
            }
            if (received < bytes) {
                in.limit(bytes).position(received);
                int n = link.read(in);
                received += n;
                moved |= n > 0;
            }
            if (!moved) {
                link.await(sent < received, received < bytes, sent < bytes);
            }
        }
    }
}
