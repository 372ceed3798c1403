package dev.ditspark.core.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;

/**
 * Fashion-MNIST from Debian's {@code dataset-fashion-mnist} package (the IDX files of Zalando's release,
 * gzipped, under {@code /usr/share/datasets/fashion-mnist}): the small, offline demo data set. Imported as a
 * pixel dataset in the one latent format: 1×28×28 float32 in [-1, 1], std 0, the mirror image as the
 * flipped view, encoder "none", scale factor 1.
 */
public final class FashionMnist {

    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int SIZE = 28;
    /** Label names, index = label (Zalando's README). */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final int IMAGES_MAGIC = 2051;
    private static final int LABELS_MAGIC = 2049;
    private static final int ROWS_PER_SHARD = 10_000;

    /** The two files of the release: 60,000 training and 10,000 test images. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        /** The file name prefix ("train" or "t10k"). */
        public String prefix() {
            return prefix;
        }
    }

    /**
     * Images in file order: {@code labels[i]} and the row-major 28×28 pixels of image i at
     * {@code pixels[i·784 ..]}, scaled to [-1, 1].
     */
    public record Images(int[] labels, float[] pixels, int height, int width) {
        public int count() {
            return labels.length;
        }

        /** Pixels of image {@code i} (a copy). */
        public float[] image(int i) {
            int n = height * width;
            float[] out = new float[n];
            System.arraycopy(pixels, i * n, out, 0, n);
            return out;
        }
    }

    private final Path dir;

    private FashionMnist(Path dir) {
        this.dir = dir;
    }

    /** The files installed by {@code apt-get install dataset-fashion-mnist}. */
    public static FashionMnist installed() {
        return new FashionMnist(DEFAULT_DIR);
    }

    /** The same four .gz files in another directory. */
    public static FashionMnist at(Path dir) {
        return new FashionMnist(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Reads the first {@code limit} images of {@code split} (fewer if the split is smaller). */
    public Images readImages(Split split, int limit) throws IOException {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be > 0, got " + limit + " (Integer.MAX_VALUE for all)");
        }
        Path imagesFile = file(split, "images-idx3");
        Path labelsFile = file(split, "labels-idx1");
        int[] labels;
        try (DataInputStream in = gunzip(labelsFile)) {
            int count = header(in, labelsFile, LABELS_MAGIC);
            labels = new int[Math.min(count, limit)];
            byte[] raw = readFully(in, labels.length, labelsFile);
            for (int i = 0; i < labels.length; i++) {
                labels[i] = raw[i] & 0xFF;
                if (labels[i] >= CLASS_NAMES.size()) {
                    throw new IOException(labelsFile + ": label " + labels[i] + " of image " + i + " is not in 0..9");
                }
            }
        }
        float[] pixels;
        try (DataInputStream in = gunzip(imagesFile)) {
            int count = header(in, imagesFile, IMAGES_MAGIC);
            int rows = in.readInt();
            int cols = in.readInt();
            if (rows != SIZE || cols != SIZE) {
                throw new IOException(imagesFile + ": images are " + rows + "×" + cols + ", expected 28×28");
            }
            if (Math.min(count, limit) != labels.length) {
                throw new IOException(imagesFile + " holds " + count + " images but " + labelsFile + " has labels for "
                        + labels.length);
            }
            byte[] raw = readFully(in, labels.length * SIZE * SIZE, imagesFile);
            pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                pixels[i] = (raw[i] & 0xFF) / 127.5f - 1f;
            }
        }
        return new Images(labels, pixels, SIZE, SIZE);
    }

    /**
     * Writes the first {@code limit} images of {@code split} as a pixel dataset at {@code datasetUri}
     * (refusing to replace an existing one) and returns its manifest.
     */
    public DatasetManifest importTo(String datasetUri, Split split, int limit) throws IOException {
        return importTo(datasetUri, split, limit, new Configuration());
    }

    public DatasetManifest importTo(String datasetUri, Split split, int limit, Configuration conf) throws IOException {
        Images images = readImages(split, limit);
        DatasetManifest layout = DatasetManifest.describe(1, SIZE, SIZE, LatentDType.FLOAT32,
                DatasetManifest.NO_ENCODER, 1.0, SIZE, CLASS_NAMES, "fashion-mnist/" + split.prefix() + " (" + dir + ")");
        float[] zeros = new float[SIZE * SIZE];
        LatentShardWriter w = LatentShardWriter.to(datasetUri, layout).conf(conf).rowsPerShard(ROWS_PER_SHARD).open();
        try {
            for (int i = 0; i < images.count(); i++) {
                float[] image = images.image(i);
                w.write(new LatentRecord(images.labels()[i], image, zeros, mirror(image, SIZE, SIZE), zeros,
                        "fashion-mnist/" + split.prefix() + "/" + i));
            }
        } catch (IOException | RuntimeException e) {
            w.abort();
            throw e;
        }
        w.close();
        return w.manifest();
    }

    /** The horizontal mirror of a row-major height×width image. */
    public static float[] mirror(float[] image, int height, int width) {
        float[] out = new float[image.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                out[y * width + x] = image[y * width + (width - 1 - x)];
            }
        }
        return out;
    }

    private Path file(Split split, String kind) throws IOException {
        Path f = dir.resolve(split.prefix() + "-" + kind + "-ubyte.gz");
        if (!Files.isReadable(f)) {
            throw new IOException("Fashion-MNIST not found: " + f + " is missing; run `apt-get install "
                    + "dataset-fashion-mnist` (or bin/setup)");
        }
        return f;
    }

    private static DataInputStream gunzip(Path f) throws IOException {
        InputStream raw = Files.newInputStream(f);
        try {
            return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16));
        } catch (IOException e) {
            raw.close();
            throw new IOException(f + ": not a gzip file: " + e.getMessage(), e);
        }
    }

    /** Checks the big-endian magic number and returns the item count. */
    private static int header(DataInputStream in, Path f, int magic) throws IOException {
        int found = in.readInt();
        if (found != magic) {
            throw new IOException(f + ": magic number " + found + ", expected " + magic + " (not an IDX "
                    + (magic == IMAGES_MAGIC ? "image" : "label") + " file)");
        }
        return in.readInt();
    }

    private static byte[] readFully(DataInputStream in, int n, Path f) throws IOException {
        byte[] out = new byte[n];
        try {
            in.readFully(out);
        } catch (EOFException e) {
            throw new IOException(f + ": truncated, expected " + n + " more bytes", e);
        }
        return out;
    }
}
