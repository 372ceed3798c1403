import dev.ditspark.core.sample.SampleImages;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the samples of PART.npz TIMES times over as one streamed .npz (ZIP64 beyond 4 GB): args PART.npz OUT.npz TIMES. */
public class Zip64Check {
    public static void main(String[] a) throws Exception {
        SampleImages part = SampleImages.readNpz(Path.of(a[0]));
        int times = Integer.parseInt(a[2]);
        long t0 = System.nanoTime();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(Path.of(a[1])), 1 << 20)) {
            SampleImages.writeNpz(out, (long) part.count() * times, part.height(), part.width(), times, k -> part);
        }
        System.out.printf("%d samples written in %.1f s, %d bytes%n", part.count() * times, (System.nanoTime() - t0) / 1e9,
                Files.size(Path.of(a[1])));
    }
}
