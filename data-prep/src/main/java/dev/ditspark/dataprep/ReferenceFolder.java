package dev.ditspark.dataprep;

import dev.ditspark.core.sample.SampleImages;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code dit eval --ref DIR}: a folder of real images as the reference (issue 11 item 3). Every visible file under
 * DIR, in sub-folders too (ImageNet's {@code DIR/<class>/<image>} layout or flat), sorted by path, is decoded as
 * {@code dit prepare} decodes (Pillow's {@code convert("RGB")}, {@link ImageDecoder}) and cut to the samples' size
 * with ADM's center crop ({@link AdmCenterCrop}: box-halving, bicubic resize of the short side, centre cut), which is
 * how ADM's reference batches (VIRTUAL_imagenet256_labeled.npz) and DiT's training images are made. Hidden names
 * ("." or "_" first) are skipped; a file that does not decode stops with one line naming it.
 *
 * <p>The images go once into {@code DIR.ref-SIZEpx-FINGERPRINT.npz} next to the folder ({@code arr_0}, N × SIZE ×
 * SIZE × 3 uint8, as ADM's batches), FINGERPRINT naming the folder's listing (paths, byte sizes, modification times),
 * so an added, removed or changed file makes a new one. That .npz is then an ordinary reference: its Inception
 * features and statistics are cached next to it by {@link dev.ditspark.core.eval.AdmEvaluation#reference}.
 */
public final class ReferenceFolder {
    /** Images per part of the streamed .npz. */
    private static final int PART = 64;

    private ReferenceFolder() {
    }

    /** The visible files under {@code dir}, sorted by path. */
    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).filter(p -> !hidden(dir.relativize(p))).sorted().toList();
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            String n = part.toString();
            if (n.startsWith(".") || n.startsWith("_")) {
                return true;
            }
        }
        return false;
    }

    /** 16 hex digits over the listing (relative path, byte size, modification time in ms) and the crop size. */
    static String fingerprint(Path dir, List<Path> files, int size) throws IOException {
        long h = 0xCBF29CE484222325L;
        StringBuilder s = new StringBuilder().append(size).append('\n');
        for (Path f : files) {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            s.append(dir.relativize(f)).append('\t').append(a.size()).append('\t')
                    .append(a.lastModifiedTime().toMillis()).append('\n');
        }
        for (byte b : s.toString().getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return String.format("%016x", h);
    }

    /** Where the cropped images of {@code dir} at {@code size} px go. */
    static Path imagesNpz(Path dir, int size, String fingerprint) {
        Path abs = dir.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + String.format(Locale.ROOT, ".ref-%dpx-%s.npz", size, fingerprint));
    }

    /**
     * The reference .npz of {@code dir} at {@code size}×{@code size}: the cached one when the folder is unchanged,
     * else made now (in a temporary file when the folder's parent cannot be written: said on {@code log}).
     *
     * @throws IllegalArgumentException the folder holds no images, or a file does not decode (named)
     */
    public static Path prepare(Path dir, int size, Consumer<String> log) throws IOException {
        List<Path> files = list(dir);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("--ref " + dir + ": no images in the folder (expected DIR/<class>/<image> "
                    + "or DIR/<image>)");
        }
        Path target = imagesNpz(dir, size, fingerprint(dir, files, size));
        if (Files.isRegularFile(target)) {
            log.accept("reference images from the cache " + target);
            return target;
        }
        Path tmp;
        try {
            tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        } catch (IOException e) {
            tmp = Files.createTempFile("dit-ref-", ".npz");
            target = tmp.resolveSibling(tmp.getFileName() + ".npz");
            log.accept("reference images not cached (" + imagesNpz(dir, size, "…").getParent() + " cannot be written: "
                    + e.getMessage() + "); using " + target);
        }
        long t0 = System.nanoTime();
        int parts = (files.size() + PART - 1) / PART;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            SampleImages.writeNpz(out, files.size(), size, size, parts, k -> {
                int from = k * PART;
                int n = Math.min(PART, files.size() - from);
                float[] chw = new float[n * 3 * size * size];
                for (int i = 0; i < n; i++) {
                    crop(files.get(from + i), size, log).toUnitRange(chw, i * 3 * size * size, false);
                }
                if (k == parts - 1 || (k + 1) % 50 == 0) {
                    double s = (System.nanoTime() - t0) / 1e9;
                    log.accept(String.format(Locale.ROOT, "%s: %d/%d images cropped to %d px, %.1f images/s",
                            dir, from + n, files.size(), size, (from + n) / s));
                }
                return SampleImages.fromPixels(chw, n, 3, size, size); // x/127.5 − 1 and back: the same bytes
            });
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        log.accept("reference images cached in " + target);
        return target;
    }

    /** One file decoded and center-cropped; a file that is not an image is refused by name. */
    static RgbImage crop(Path file, int size, Consumer<String> log) {
        try {
            ImageDecoder.Decoded d = ImageDecoder.decode(Files.readAllBytes(file), size);
            if (d.warning() != null) {
                log.accept(file + ": " + d.warning());
            }
            return AdmCenterCrop.apply(d.image(), size);
        } catch (ImageDecoder.BadImageException e) {
            throw new IllegalArgumentException("--ref " + file + ": not a usable image (" + e.getMessage()
                    + "); move it out of the reference folder");
        } catch (IOException e) {
            throw new UncheckedIOException("--ref " + file + ": " + e.getMessage(), e);
        }
    }
}
