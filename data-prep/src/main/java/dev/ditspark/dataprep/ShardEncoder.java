package dev.ditspark.dataprep;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.data.LatentRecord;
import dev.ditspark.core.data.LatentShardWriter;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.Posterior;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One task of {@code dit prepare}, on an executor: read, decode and crop each image, run the VAE encoder on
 * batches of images and their mirrors, write the rows to the task's own shard. Bad images are recorded and
 * skipped; anything else (the VAE, the output file system) fails the task, which Spark retries.
 */
final class ShardEncoder {
    private static final Logger LOG = LogManager.getLogger(ShardEncoder.class);
    private static final long PROGRESS_NANOS = 10_000_000_000L;

    /** One VAE per file and device per executor JVM, shared by its task threads (read-only weights). */
    private static final Map<String, AutoencoderKL> VAES = new ConcurrentHashMap<>();

    private ShardEncoder() {
    }

    static AutoencoderKL vae(String file, Device device) {
        return VAES.computeIfAbsent(file + "@" + device, k -> {
            try {
                // Weights live as long as the executor: their manager is never closed.
                return AutoencoderKL.load(java.nio.file.Path.of(file), TorchEngine.newManager(device));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot load the VAE " + file + ": " + e.getMessage(), e);
            }
        });
    }

    static TaskOutcome run(PrepareJob.ShardTask task, PrepareOptions o, DatasetManifest layout, String vaeFile,
                           Device device, Configuration conf) throws IOException {
        long t0 = System.nanoTime();
        AutoencoderKL vae = vae(vaeFile, device);
        String prefix = PrepareJob.shardPrefix(task.index());
        List<TaskOutcome.BadFile> bad = new ArrayList<>();
        List<String> upscaled = new ArrayList<>();
        List<TaskOutcome.BadFile> warned = new ArrayList<>();
        List<ImageFolder.Entry> batch = new ArrayList<>();
        List<RgbImage> crops = new ArrayList<>();
        LatentShardWriter writer = LatentShardWriter.to(o.output(), layout).conf(conf).shardPrefix(prefix)
                .writeManifest(false).rowsPerShard(Integer.MAX_VALUE).open();
        long done = 0;
        long lastLog = t0;
        try {
            for (ImageFolder.Entry e : task.images()) {
                RgbImage image;
                RgbImage crop;
                try {
                    ImageDecoder.Decoded d = ImageDecoder.decode(read(e.path(), conf), o.imageSize());
                    image = d.image();
                    if (d.warning() != null) {
                        warned.add(new TaskOutcome.BadFile(e.path(), d.warning()));
                        LOG.warn("{}: {}", e.path(), d.warning());
                    }
                    crop = AdmCenterCrop.apply(image, o.imageSize());
                } catch (OutOfMemoryError ex) {
                    // One image never ends the task: what failed to allocate is garbage again.
                    String why = "too large for this executor's memory (heap " + (Runtime.getRuntime().maxMemory() >> 20)
                            + " MiB); raise spark.executor.memory or shrink the image";
                    bad.add(new TaskOutcome.BadFile(e.path(), why));
                    LOG.warn("skipping {}: {}", e.path(), why);
                    continue;
                } catch (ImageDecoder.BadImageException ex) {
                    bad.add(new TaskOutcome.BadFile(e.path(), ex.getMessage()));
                    LOG.warn("skipping {}: {}", e.path(), ex.getMessage());
                    continue;
                } catch (IOException ex) {
                    bad.add(new TaskOutcome.BadFile(e.path(), "unreadable: " + ex));
                    LOG.warn("skipping {}: unreadable: {}", e.path(), ex.toString());
                    continue;
                }
                if (Math.min(image.width(), image.height()) < o.imageSize()) {
                    upscaled.add(e.path());
                }
                batch.add(e);
                crops.add(crop);
                if (batch.size() == o.batchSize()) {
                    done += encode(vae, batch, crops, writer, device);
                }
                long now = System.nanoTime();
                if (now - lastLog > PROGRESS_NANOS) {
                    lastLog = now;
                    LOG.info(String.format(Locale.ROOT, "shard %s: %d/%d images, %.1f img/s", prefix, done,
                            task.images().size(), done / ((now - t0) / 1e9)));
                }
            }
            done += encode(vae, batch, crops, writer, device);
        } catch (IOException | RuntimeException e) {
            writer.abort();
            throw e;
        }
        writer.close();
        List<dev.ditspark.core.data.DatasetManifest.Shard> shards = writer.shards();
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info(String.format(Locale.ROOT, "shard %s done: %d images (%d bad) in %.1f s, %.1f img/s", prefix, done,
                bad.size(), seconds, done / seconds));
        return new TaskOutcome(task.index(), task.inputHash(), shards.isEmpty() ? null : shards.get(0).file(),
                writer.count(), bad, upscaled, seconds, warned);
    }

    private static byte[] read(String path, Configuration conf) throws IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(conf);
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    /** Encodes the batch (images then their mirrors in one forward), writes its rows and empties it. */
    private static int encode(AutoencoderKL vae, List<ImageFolder.Entry> batch, List<RgbImage> crops,
                              LatentShardWriter writer, Device device) throws IOException {
        int b = batch.size();
        if (b == 0) {
            return 0;
        }
        int s = crops.get(0).width();
        int plane = 3 * s * s;
        float[] pixels = new float[2 * b * plane];
        for (int i = 0; i < b; i++) {
            crops.get(i).toUnitRange(pixels, i * plane, false);
            crops.get(i).toUnitRange(pixels, (b + i) * plane, true);
        }
        float[] mean;
        float[] std;
        try (NDManager m = TorchEngine.newManager(device)) {
            NDArray x = m.create(pixels, new Shape(2L * b, 3, s, s));
            Posterior p = vae.encode(x);
            mean = p.mean().toFloatArray();
            std = p.std().toFloatArray();
        }
        int n = mean.length / (2 * b);
        for (int i = 0; i < b; i++) {
            writer.write(new LatentRecord(batch.get(i).label(), slice(mean, i, n), slice(std, i, n),
                    slice(mean, b + i, n), slice(std, b + i, n), batch.get(i).path()));
        }
        batch.clear();
        crops.clear();
        return b;
    }

    private static float[] slice(float[] a, int row, int n) {
        float[] out = new float[n];
        System.arraycopy(a, row * n, out, 0, n);
        return out;
    }
}
