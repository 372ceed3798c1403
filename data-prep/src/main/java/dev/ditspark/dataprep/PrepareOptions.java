package dev.ditspark.dataprep;

import dev.ditspark.core.config.FloatType;
import dev.ditspark.core.data.LatentDType;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code dit prepare} does: class folders under {@code input} → latent dataset at {@code output}.
 *
 * @param input          a folder of class sub-folders (ImageNet's layout), any Hadoop file system URI or local path
 * @param output         the dataset URI (file://, hdfs://, s3a://)
 * @param imageSize      crop size in pixels (256 or 512 for DiT; a multiple of the VAE's downsampling)
 * @param vae            the VAE safetensors file, a local path present on every executor (or shipped with
 *                       spark-submit {@code --files}, then found by its file name)
 * @param encoderName    the manifest's {@code encoder} field (default: the VAE file name)
 * @param dtype          how latents are stored
 * @param imagesPerShard images per task and shard: the unit of parallelism and of resuming
 * @param batchSize      images per VAE forward (each with its mirror, so 2× this many)
 */
public record PrepareOptions(String input, String output, int imageSize, String vae, String encoderName,
                             LatentDType dtype, int imagesPerShard, int batchSize) implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_IMAGES_PER_SHARD = 1000;
    public static final int DEFAULT_BATCH = 8;

    public PrepareOptions {
        require(input != null && !input.isBlank(), "--input", "is required");
        require(output != null && !output.isBlank(), "--output", "is required");
        require(vae != null && !vae.isBlank(), "--vae", "is required (a diffusers AutoencoderKL .safetensors file)");
        require(imageSize > 0, "--image-size", "must be > 0, got " + imageSize);
        require(imagesPerShard > 0, "--images-per-shard", "must be > 0, got " + imagesPerShard);
        require(batchSize > 0, "--batch", "must be > 0, got " + batchSize);
        require(dtype != null, "--dtype", "must be float16 or float32");
        dev.ditspark.core.config.Secrets.requireNoCredentials("--input", input);
        dev.ditspark.core.config.Secrets.requireNoCredentials("--output", output);
        dev.ditspark.core.config.Secrets.requireNoCredentials("--vae", vae);
        if (encoderName == null || encoderName.isBlank()) {
            encoderName = new org.apache.hadoop.fs.Path(vae).getName();
        }
    }

    private static void require(boolean ok, String flag, String detail) {
        if (!ok) {
            throw new IllegalArgumentException(flag + ": " + detail);
        }
    }

    /**
     * Parses {@code --input DIR --output URI --image-size N --vae FILE [--dtype float16|float32]
     * [--encoder-name NAME] [--images-per-shard N] [--batch N]} (spark-submit's arguments to {@link PrepareJob}).
     */
    public static PrepareOptions fromArgs(String... args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (!k.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException(k + ": expected --flag value pairs");
            }
            m.put(k, args[++i]);
        }
        PrepareOptions o = new PrepareOptions(m.remove("--input"), m.remove("--output"),
                integer(m.remove("--image-size"), "--image-size", 256), m.remove("--vae"), m.remove("--encoder-name"),
                dtype(m.remove("--dtype")), integer(m.remove("--images-per-shard"), "--images-per-shard",
                DEFAULT_IMAGES_PER_SHARD), integer(m.remove("--batch"), "--batch", DEFAULT_BATCH));
        if (!m.isEmpty()) {
            throw new IllegalArgumentException("unknown option(s) " + m.keySet());
        }
        return o;
    }

    /**
     * {@code --dtype}: how latents are stored, float16 or float32 (default) in any {@link FloatType} spelling
     * (f16, fp16, half...); dit prepare and spark-submit parse it here.
     *
     * @throws IllegalArgumentException one line naming --dtype
     */
    public static LatentDType dtype(String s) {
        if (s == null) {
            return LatentDType.FLOAT32;
        }
        return LatentDType.fromId(FloatType.parse(s, "--dtype", FloatType.FLOAT16, FloatType.FLOAT32).id());
    }

    private static int integer(String s, String flag, int dflt) {
        if (s == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": not an integer: " + s, e);
        }
    }
}
