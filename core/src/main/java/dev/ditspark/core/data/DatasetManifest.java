package dev.ditspark.core.data;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code manifest.json} of a latent dataset: what the Parquet shards hold and how to turn them back into
 * model inputs. Written last, so a dataset exists for readers exactly when its manifest does.
 *
 * <p>Each row holds four C×H×W arrays in {@link #dtype()}: the encoder posterior's mean and std of the
 * image and of its mirror (docs/recipe.md, "Data": the latent is resampled each step as
 * {@code (mean + std·ε)·scale_factor}, and one of the two views is picked at random). Pixel datasets use
 * encoder {@code "none"}, std 0 and scale factor 1.
 *
 * <p>The constructor checks every field and names the one at fault, so a manifest that parses is usable.
 */
@JsonPropertyOrder({"format", "version", "count", "shards", "channels", "height", "width", "dtype", "encoder",
        "scale_factor", "image_size", "num_classes", "class_names", "source"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public record DatasetManifest(
        @JsonProperty(value = "format", required = true) String format,
        @JsonProperty(value = "version", required = true) int version,
        @JsonProperty(value = "count", required = true) long count,
        @JsonProperty(value = "shards", required = true) List<Shard> shards,
        @JsonProperty(value = "channels", required = true) int channels,
        @JsonProperty(value = "height", required = true) int height,
        @JsonProperty(value = "width", required = true) int width,
        @JsonProperty(value = "dtype", required = true) LatentDType dtype,
        @JsonProperty(value = "encoder", required = true) String encoder,
        @JsonProperty(value = "scale_factor", required = true) double scaleFactor,
        @JsonProperty(value = "image_size", required = true) int imageSize,
        @JsonProperty(value = "num_classes", required = true) int numClasses,
        @JsonProperty(value = "class_names", required = true) List<String> classNames,
        @JsonProperty(value = "source", required = true) String source) implements Serializable {

    public static final String FILE_NAME = "manifest.json";
    public static final String FORMAT = "dit-latents";
    public static final int VERSION = 1;
    /** Encoder name of datasets that hold pixels rather than latents. */
    public static final String NO_ENCODER = "none";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** One Parquet file of the dataset, by its name inside the dataset directory. */
    public record Shard(@JsonProperty(value = "file", required = true) String file,
                        @JsonProperty(value = "rows", required = true) long rows) implements Serializable {
        public Shard {
            if (file == null || file.isEmpty() || file.contains("/") || file.startsWith("_") || file.startsWith(".")) {
                throw new IllegalArgumentException("field 'shards': file must be a plain visible file name, got '"
                        + file + "'");
            }
            if (rows < 0) {
                throw new IllegalArgumentException("field 'shards': " + file + " has rows " + rows + " < 0");
            }
        }
    }

    public DatasetManifest {
        require(FORMAT.equals(format), "format", "must be \"" + FORMAT + "\", got \"" + format + "\"");
        require(version == VERSION, "version", "this reader knows version " + VERSION + ", got " + version);
        require(shards != null, "shards", "missing");
        shards = List.copyOf(shards);
        require(count >= 0, "count", "must be ≥ 0, got " + count);
        long sum = 0;
        Set<String> seen = new HashSet<>();
        for (Shard s : shards) {
            require(s != null, "shards", "holds a null entry");
            require(seen.add(s.file()), "shards", "lists " + s.file() + " twice");
            sum += s.rows();
        }
        require(sum == count, "count", count + " but the shards hold " + sum + " rows");
        require(channels > 0, "channels", "must be > 0, got " + channels);
        require(height > 0, "height", "must be > 0, got " + height);
        require(width > 0, "width", "must be > 0, got " + width);
        require((long) channels * height * width * 4 <= Integer.MAX_VALUE, "channels",
                "C×H×W = " + channels + "×" + height + "×" + width + " is too large for one array");
        require(dtype != null, "dtype", "must be \"float16\" or \"float32\"");
        require(encoder != null && !encoder.isBlank(), "encoder", "must name the encoder or be \"" + NO_ENCODER + "\"");
        require(Double.isFinite(scaleFactor) && scaleFactor > 0, "scale_factor", "must be finite and > 0, got "
                + scaleFactor);
        require(imageSize > 0, "image_size", "must be > 0, got " + imageSize);
        require(numClasses > 0, "num_classes", "must be > 0, got " + numClasses);
        require(classNames != null, "class_names", "missing");
        classNames = List.copyOf(classNames);
        require(classNames.size() == numClasses, "class_names", "has " + classNames.size()
                + " names for num_classes " + numClasses);
        require(source != null, "source", "missing");
    }

    private static void require(boolean ok, String field, String detail) {
        if (!ok) {
            throw new IllegalArgumentException("field '" + field + "': " + detail);
        }
    }

    /**
     * The description of a dataset about to be written: everything but its shards (count 0). The writer
     * fills in the shards with {@link #withShards}.
     */
    public static DatasetManifest describe(int channels, int height, int width, LatentDType dtype, String encoder,
                                           double scaleFactor, int imageSize, List<String> classNames, String source) {
        return new DatasetManifest(FORMAT, VERSION, 0, List.of(), channels, height, width, dtype, encoder,
                scaleFactor, imageSize, classNames == null ? 0 : classNames.size(), classNames, source);
    }

    /** This manifest listing {@code shards} (and counting their rows). */
    public DatasetManifest withShards(List<Shard> shards) {
        long n = shards.stream().mapToLong(Shard::rows).sum();
        return new DatasetManifest(format, version, n, shards, channels, height, width, dtype, encoder, scaleFactor,
                imageSize, numClasses, classNames, source);
    }

    /** Elements of each stored array: C·H·W. */
    public int elementsPerArray() {
        return channels * height * width;
    }

    /** Bytes of each stored array. */
    public int bytesPerArray() {
        return elementsPerArray() * dtype.byteSize();
    }

    /** Whether the arrays are pixels (encoder "none") rather than encoder latents. */
    @JsonIgnore
    public boolean isPixels() {
        return NO_ENCODER.equals(encoder);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses a manifest; {@code where} names it in error messages. */
    public static DatasetManifest fromJson(String json, String where) {
        try {
            return JSON.readValue(json, DatasetManifest.class);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new DatasetFormatException(where, "invalid manifest" + fieldOf(e) + ": " + cause.getMessage(), e);
        } catch (JsonMappingException e) {
            throw new DatasetFormatException(where, "invalid manifest" + fieldOf(e) + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new DatasetFormatException(where, "manifest is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String fieldOf(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
        return path.isEmpty() ? "" : ", field '" + path + "'";
    }

    /**
     * Reads {@code <datasetUri>/manifest.json}; fails with "does not exist" when there is no such directory and
     * "no manifest.json" when the dataset was never finished (or is still being written).
     */
    public static DatasetManifest read(String datasetUri, Configuration conf) throws IOException {
        Path file = new Path(new Path(datasetUri), FILE_NAME);
        FileSystem fs = file.getFileSystem(conf);
        byte[] bytes;
        try (InputStream in = fs.open(file)) {
            bytes = in.readAllBytes();
        } catch (FileNotFoundException e) {
            if (!fs.exists(file.getParent())) {
                throw new DatasetFormatException(datasetUri, "does not exist (no such dataset directory)", e);
            }
            throw new DatasetFormatException(datasetUri,
                    "no manifest.json, the dataset is incomplete or still being written", e);
        }
        return fromJson(new String(bytes, StandardCharsets.UTF_8), file.toString());
    }

    /**
     * Writes this manifest as {@code <datasetUri>/manifest.json}, making the dataset visible. Checks first
     * that every listed shard exists; writes under a temporary name and renames, so no reader sees half a
     * manifest (on object stores the rename is a copy of a complete object, equally safe).
     */
    public void commit(String datasetUri, Configuration conf) throws IOException {
        Path dir = new Path(datasetUri);
        FileSystem fs = dir.getFileSystem(conf);
        for (Shard s : shards) {
            Path p = new Path(dir, s.file());
            if (!fs.exists(p)) {
                throw new DatasetFormatException(p.toString(), "listed in the manifest but missing");
            }
        }
        Path target = new Path(dir, FILE_NAME);
        Path tmp = TempFileCommit.temporaryFor(target);
        try {
            try (OutputStream out = fs.create(tmp, true)) {
                out.write(toJson().getBytes(StandardCharsets.UTF_8));
            }
            TempFileCommit.commit(fs, tmp, target);
        } catch (IOException | RuntimeException e) {
            TempFileCommit.discard(fs, tmp, e);
            throw e;
        }
    }
}
