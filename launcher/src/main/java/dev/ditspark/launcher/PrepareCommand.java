package dev.ditspark.launcher;

import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.data.LatentDType;
import dev.ditspark.dataprep.PrepareJob;
import dev.ditspark.dataprep.PrepareOptions;
import dev.ditspark.dataprep.PrepareReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dit prepare}: the offline latent preprocessing (data-prep's {@link PrepareJob}) in an embedded Spark. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        header = "Encode an ImageNet-layout image folder into VAE latent shards (Spark).",
        description = {"Encode a folder of class sub-folders (ImageNet's layout) into latent Parquet shards + manifest:",
            "ADM center crop, VAE encoder on each image and its mirror. Bad files are listed in OUTPUT/_report.json;",
            "re-running after an interruption skips finished shards.",
            "Example: dit prepare --input /data/imagenet/train --output /data/latents256 --image-size 256 "
                + "--vae sd-vae-ft-ema.safetensors"})
public final class PrepareCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "DIR", description = "Folder of class sub-folders (local path or URI).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "URI", description = "Dataset folder (local path, file://, hdfs://, s3a://).")
    String output;

    @Option(names = "--image-size", defaultValue = "256", description = "Crop size: 256 or 512 for DiT (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--vae", required = true, paramLabel = "FILE|URI",
            description = "diffusers AutoencoderKL weights (.safetensors), e.g. stabilityai/sd-vae-ft-ema's: a local file or "
                    + "a Hadoop URI (hdfs://, s3a://); a tiny test VAE carries its shape in the metadata key 'vae_config'.")
    String vae;

    @Option(names = "--encoder-name", description = "The manifest's encoder name (default: the VAE file name).")
    String encoderName;

    @Option(names = "--dtype", defaultValue = "float32", description = "float16 or float32 (f16, fp16 also accepted; default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--images-per-shard", defaultValue = "" + PrepareOptions.DEFAULT_IMAGES_PER_SHARD,
            description = "Images per task and shard (default: ${DEFAULT-VALUE}).")
    int imagesPerShard;

    @Option(names = "--batch", defaultValue = "" + PrepareOptions.DEFAULT_BATCH,
            description = "Images per VAE forward, each with its mirror (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default: ${DEFAULT-VALUE}, embedded).")
    String master;

    @Override
    public Integer call() throws IOException {
        Secrets.requireNoCredentials("--input", input);
        Secrets.requireNoCredentials("--output", output);
        Secrets.requireNoCredentials("--vae", vae);
        // A URI stays a string (a java.nio Path would turn s3a://bucket/k into s3a:/bucket/k); PrepareJob fetches it.
        String vaeLocation = hasScheme(vae) && !vae.startsWith("file:") ? vae
                : Checks.inputFile("--vae", vae.startsWith("file:") ? Path.of(java.net.URI.create(vae)) : Path.of(vae))
                        .toAbsolutePath().toString();
        LatentDType type = PrepareOptions.dtype(dtype);
        PrepareOptions o = new PrepareOptions(uri(input), uri(output), imageSize, vaeLocation,
                encoderName, type, imagesPerShard, batch);
        SparkConf conf = new SparkConf().setMaster(master).setAppName("dit prepare").set("spark.ui.enabled", "false");
        PrepareReport r;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            r = PrepareJob.run(sc, o);
        }
        PrintWriter pw = spec.commandLine().getOut();
        pw.printf(Locale.ROOT, "%d images -> %s (%d shards, %d reused), %d bad files, %d stray files, %.1f s, %.1f img/s%n",
                r.imagesWritten(), o.output(), r.shards(), r.shardsReused(), r.badFiles().size(), r.strayFiles().size(),
                r.seconds(), r.imagesPerSecond());
        pw.flush();
        return 0;
    }

    /** A local path as an absolute file URI; anything with a scheme unchanged. */
    static String uri(String location) {
        return hasScheme(location) ? location : Path.of(location).toAbsolutePath().toUri().toString();
    }

    /** Whether {@code location} is a URI (scheme:/...) rather than a local path. */
    static boolean hasScheme(String location) {
        return location.matches("^[A-Za-z][A-Za-z0-9+.-]*:/.*");
    }
}
