package dev.ditspark.dataprep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.vae.AutoencoderKL;
import dev.ditspark.core.vae.VaeConfig;
import dev.ditspark.sparkcommon.FailFast;
import dev.ditspark.sparkcommon.HadoopSettings;
import dev.ditspark.sparkcommon.TaskGpu;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * {@code dit prepare}, the offline latent preprocessing (ARCHITECTURE "Data flow" 1): class folders of images →
 * ADM center crop → [-1, 1] → VAE encoder on each image and its mirror → Parquet shards + manifest.
 *
 * <p>The driver lists the images (sorted), shuffles them with a fixed seed (so every shard mixes classes, which
 * {@link dev.ditspark.core.data.LatentDataset}'s contiguous rank blocks need) and cuts them into tasks of
 * {@code imagesPerShard}; task i writes shard {@code part-tNNNNN-00000.parquet} and then {@code _tasks/task-NNNNN.json}.
 * The same input gives the same tasks, so a re-run skips every task whose outcome is there with the same input
 * hash. The manifest is committed by the driver last: the dataset is visible to training only when complete.
 * Bad files are listed in {@code _report.json} and the log; the job goes on.
 *
 * <p>Spark-submit entry point: {@code spark-submit --class dev.ditspark.dataprep.PrepareJob dit-data-prep.jar
 * --input DIR --output URI --image-size 256 --vae FILE [--dtype float16]}.
 */
public final class PrepareJob {
    private static final Logger LOG = LogManager.getLogger(PrepareJob.class);
    static final String TASKS_DIR = "_tasks";
    /** Fixed: the shuffle of images into shards must be the same on every run for re-runs to resume. */
    private static final long SHUFFLE_SEED = 20221219L;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PrepareJob() {
    }

    /** The images of one task and a hash of everything that decides its shard's content. */
    record ShardTask(int index, List<ImageFolder.Entry> images, String inputHash) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    static String shardPrefix(int task) {
        return String.format(Locale.ROOT, "part-t%05d", task);
    }

    static Path outcomePath(String output, int task) {
        return new Path(new Path(output, TASKS_DIR), String.format(Locale.ROOT, "task-%05d.json", task));
    }

    public static void main(String[] args) throws IOException {
        PrepareOptions o = PrepareOptions.fromArgs(args);
        SparkConf conf = new SparkConf().setAppName("dit prepare");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            run(sc, o);
        }
    }

    /** Runs the job on {@code sc} and returns the report (also written to {@code _report.json}). */
    public static PrepareReport run(JavaSparkContext sc, PrepareOptions o) throws IOException {
        long t0 = System.nanoTime();
        Configuration hadoop = sc.hadoopConfiguration();
        FileSystem outFs = new Path(o.output()).getFileSystem(hadoop);
        Path manifestPath = new Path(o.output(), DatasetManifest.FILE_NAME);
        if (outFs.exists(manifestPath)) {
            throw new IllegalArgumentException("--output " + o.output() + " already holds a finished dataset "
                    + "(manifest.json); delete it or choose another output");
        }
        // Fail on the driver, before any task, if the VAE does not load or does not fit the image size.
        VaeConfig vaeConfig;
        try (var manager = TorchEngine.newManager()) {
            vaeConfig = AutoencoderKL.load(java.nio.file.Path.of(localVae(o.vae(), hadoop)), manager).config();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("--vae " + o.vae() + ": no such file", e);
        }
        int f = vaeConfig.downsampling();
        if (o.imageSize() % f != 0) {
            throw new IllegalArgumentException("--image-size " + o.imageSize() + " is not a multiple of the VAE's "
                    + "downsampling " + f);
        }
        ImageFolder folder = ImageFolder.list(o.input(), hadoop);
        folder.strayFiles().forEach(s -> LOG.warn("not in a class folder, skipped: {}", s));
        folder.emptyClasses().forEach(c -> LOG.warn("class folder '{}' is empty (its label is kept)", c));
        DatasetManifest layout = DatasetManifest.describe(vaeConfig.latentChannels(), o.imageSize() / f,
                o.imageSize() / f, o.dtype(), o.encoderName(), vaeConfig.scalingFactor(), o.imageSize(),
                folder.classNames(), o.input());

        List<ShardTask> tasks = tasks(folder.images(), o, vaeConfig);
        List<TaskOutcome> reused = new ArrayList<>();
        List<ShardTask> todo = new ArrayList<>();
        for (ShardTask t : tasks) {
            TaskOutcome done = readOutcome(outFs, outcomePath(o.output(), t.index()));
            if (done != null && done.inputHash().equals(t.inputHash())
                    && (done.shard() == null || outFs.exists(new Path(o.output(), done.shard())))) {
                reused.add(done);
            } else {
                todo.add(t);
            }
        }
        LOG.info("{} images in {} classes → {} shards of up to {} ({} already done), {} px, VAE {} ({} latents {}x{}x{})",
                folder.images().size(), folder.classNames().size(), tasks.size(), o.imagesPerShard(), reused.size(),
                o.imageSize(), o.vae(), o.dtype().id(), layout.channels(), layout.height(), layout.width());

        List<TaskOutcome> outcomes = new ArrayList<>(reused);
        if (!todo.isEmpty()) {
            outcomes.addAll(runTasks(sc, todo, o, layout, t0));
        }
        outcomes.sort((a, b) -> Integer.compare(a.task(), b.task()));

        List<DatasetManifest.Shard> shards = new ArrayList<>();
        List<TaskOutcome.BadFile> bad = new ArrayList<>();
        List<String> upscaled = new ArrayList<>();
        List<TaskOutcome.BadFile> warned = new ArrayList<>();
        long written = 0;
        for (TaskOutcome t : outcomes) {
            if (t.shard() != null) {
                shards.add(new DatasetManifest.Shard(t.shard(), t.rows()));
            }
            bad.addAll(t.badFiles());
            upscaled.addAll(t.upscaled());
            warned.addAll(t.warnings());
            written += t.rows();
        }
        if (written == 0) {
            throw new IllegalArgumentException("--input " + o.input() + ": no image could be read (" + bad.size()
                    + " bad files, see the log); no dataset written");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long encodedNow = outcomes.stream().filter(t -> !reused.contains(t)).mapToLong(TaskOutcome::rows).sum();
        PrepareReport report = new PrepareReport(o.input(), o.output(), o.imageSize(), folder.classNames().size(),
                folder.images().size(), written, bad, upscaled, folder.strayFiles(), folder.emptyClasses(),
                shards.size(), reused.size(), seconds, encodedNow / seconds, warned);
        try (OutputStream out = outFs.create(new Path(o.output(), PrepareReport.FILE_NAME), true)) {
            out.write(JSON.writeValueAsBytes(report));
        }
        layout.withShards(shards).commit(o.output(), hadoop);
        LOG.info(String.format(Locale.ROOT, "dataset %s committed: %d images in %d shards, %d bad files, %d stray "
                        + "files, %.1f s, %.1f img/s (report: %s)", o.output(), written, shards.size(), bad.size(),
                folder.strayFiles().size(), seconds, report.imagesPerSecond(), PrepareReport.FILE_NAME));
        return report;
    }

    /** Sorted listing → fixed-seed shuffle → chunks of imagesPerShard; each chunk's hash covers images and options. */
    static List<ShardTask> tasks(List<ImageFolder.Entry> images, PrepareOptions o, VaeConfig vae) {
        List<ImageFolder.Entry> order = new ArrayList<>(images);
        Collections.shuffle(order, new Random(SHUFFLE_SEED));
        List<ShardTask> tasks = new ArrayList<>();
        for (int start = 0, i = 0; start < order.size(); start += o.imagesPerShard(), i++) {
            List<ImageFolder.Entry> chunk = List.copyOf(order.subList(start, Math.min(order.size(),
                    start + o.imagesPerShard())));
            tasks.add(new ShardTask(i, chunk, hash(chunk, o, vae)));
        }
        return tasks;
    }

    private static String hash(List<ImageFolder.Entry> chunk, PrepareOptions o, VaeConfig vae) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update((o.imageSize() + "|" + o.dtype().id() + "|" + o.encoderName() + "|" + vae.toJson() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            for (ImageFolder.Entry e : chunk) {
                d.update((e.label() + "\t" + e.path() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static TaskOutcome readOutcome(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return JSON.readValue(in, TaskOutcome.class);
        } catch (FileNotFoundException e) {
            return null;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            LOG.warn("{} is unreadable ({}); its task runs again", p, e.getOriginalMessage());
            return null;
        }
    }

    private static List<TaskOutcome> runTasks(JavaSparkContext sc, List<ShardTask> todo, PrepareOptions o,
                                              DatasetManifest layout, long t0) {
        HadoopSettings hadoopConf = new HadoopSettings(sc.hadoopConfiguration());
        AtomicInteger finished = new AtomicInteger();
        int total = todo.size();
        SparkListener progress = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                int k = finished.incrementAndGet();
                LOG.info(String.format(Locale.ROOT, "%d/%d shards done, %.0f s", k, total, (System.nanoTime() - t0) / 1e9));
            }
        };
        sc.sc().addSparkListener(progress);
        String group = "dit-prepare-" + java.util.UUID.randomUUID();
        sc.setJobGroup(group, "dit prepare: " + todo.size() + " shards", true);
        FailFast failures = new FailFast(sc, group);
        try {
            return sc.parallelize(todo, todo.size()).map(task -> {
                try {
                    Configuration conf = hadoopConf.toConfiguration();
                    TaskOutcome out = ShardEncoder.run(task, o, layout, localVae(o.vae(), conf), TaskGpu.current(), conf);
                    FileSystem fs = new Path(o.output()).getFileSystem(conf);
                    try (OutputStream w = fs.create(outcomePath(o.output(), task.index()), true)) {
                        w.write(JSON.writeValueAsBytes(out)); // written last: the task counts as done only now
                    }
                    return out;
                } catch (IOException | RuntimeException e) {
                    // The same input fails the same way again: say so, and the driver ends the job unretried.
                    FailFast.throwIfDeterministic("shard " + shardPrefix(task.index()), e);
                    throw e;
                }
            }).collect();
        } catch (Exception e) { // Scala throws SparkException undeclared
            if (e instanceof org.apache.spark.SparkException) {
                throw failures.watch.toException("preparing " + o.input(), e);
            }
            throw e;
        } finally {
            failures.close();
            sc.clearJobGroup();
            sc.sc().removeSparkListener(progress);
        }
    }

    /**
     * The VAE file on this machine: a local path as given; a Hadoop URI (s3a://, hdfs://) copied once per machine
     * into the temporary directory; or the copy that spark-submit --files shipped under its name.
     */
    static String localVae(String vae, Configuration conf) throws IOException {
        Path uri = new Path(vae);
        String scheme = uri.toUri().getScheme();
        if (scheme != null && !scheme.equals("file")) {
            java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "dit-vae",
                    Integer.toHexString(vae.hashCode()));
            java.nio.file.Path local = dir.resolve(uri.getName());
            synchronized (PrepareJob.class) {
                if (!java.nio.file.Files.exists(local)) {
                    java.nio.file.Files.createDirectories(dir);
                    java.nio.file.Path part = java.nio.file.Files.createTempFile(dir, ".download", ".part");
                    try (var in = uri.getFileSystem(conf).open(uri)) {
                        java.nio.file.Files.copy(in, part, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    } catch (java.io.FileNotFoundException e) {
                        throw new IllegalArgumentException("--vae " + vae + ": no such file", e);
                    }
                    java.nio.file.Files.move(part, local, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return local.toString();
        }
        if (java.nio.file.Files.exists(java.nio.file.Path.of(uri.toUri().getPath()))) {
            return uri.toUri().getPath();
        }
        String shipped = SparkFiles.get(uri.getName());
        if (java.nio.file.Files.exists(java.nio.file.Path.of(shipped))) {
            return shipped;
        }
        throw new IllegalArgumentException("--vae " + vae + ": no such file on this machine (give a path every node has, an "
                + "s3a:// or hdfs:// URI, or ship it with spark-submit --files)");
    }
}
