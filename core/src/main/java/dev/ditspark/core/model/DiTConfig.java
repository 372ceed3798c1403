package dev.ditspark.core.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shape of a DiT (docs/model.md, "Sizes"). {@code inputSize} is the latent (or pixel) side length, so 32 for
 * 256 px images through the KL-f8 VAE.
 */
public record DiTConfig(
        int inputSize,
        int patchSize,
        int inChannels,
        int hiddenSize,
        int depth,
        int numHeads,
        double mlpRatio,
        double classDropoutProb,
        int numClasses,
        boolean learnSigma,
        Conditioning conditioning) {

    /** The VAE downsampling factor: latent side = image side / 8. */
    public static final int VAE_DOWNSAMPLE = 8;

    private static final Pattern NAME = Pattern.compile("DiT-(S|B|L|XL)/(2|4|8)");

    /** depth, hidden size, heads of the four published sizes (docs/model.md, "Sizes"). */
    private static final Map<String, int[]> SIZES = new LinkedHashMap<>();

    static {
        SIZES.put("S", new int[] {12, 384, 6});
        SIZES.put("B", new int[] {12, 768, 12});
        SIZES.put("L", new int[] {24, 1024, 16});
        SIZES.put("XL", new int[] {28, 1152, 16});
    }

    public DiTConfig {
        require(inputSize > 0, "input_size", "must be positive, got " + inputSize);
        require(patchSize > 0, "patch_size", "must be positive, got " + patchSize);
        require(inputSize % patchSize == 0, "input_size",
                "must be divisible by patch_size " + patchSize + ", got " + inputSize);
        require(inChannels > 0, "in_channels", "must be positive, got " + inChannels);
        require(hiddenSize > 0, "hidden_size", "must be positive, got " + hiddenSize);
        require(depth > 0, "depth", "must be positive, got " + depth);
        require(numHeads > 0 && hiddenSize % numHeads == 0, "num_heads",
                "must divide hidden_size " + hiddenSize + ", got " + numHeads);
        // The 2-D sin-cos position embedding splits D in 4 quarters (sin/cos of row and column).
        require(hiddenSize % 4 == 0, "hidden_size", "must be divisible by 4, got " + hiddenSize);
        require(mlpRatio > 0, "mlp_ratio", "must be positive, got " + mlpRatio);
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob",
                "must be in [0, 1), got " + classDropoutProb);
        require(numClasses > 0, "num_classes", "must be positive, got " + numClasses);
        require(conditioning != null, "conditioning", "must be set");
    }

    private static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + message);
        }
    }

    /** The published configurations' names, in the order of docs/model.md's table. */
    public static List<String> publishedNames() {
        return SIZES.keySet().stream()
                .flatMap(s -> List.of(2, 4, 8).stream().map(p -> "DiT-" + s + "/" + p))
                .toList();
    }

    /** A published configuration, e.g. {@code DiT-XL/2} at 256 px: 1000 classes, 4 latent channels, learned sigma. */
    public static DiTConfig named(String name, int imageSize) {
        return named(name, imageSize, 4, 1000);
    }

    /**
     * A published configuration at {@code imageSize} pixels (latent side imageSize / 8).
     *
     * @throws IllegalArgumentException "name: unknown model …" listing the valid names, or "image_size: …"
     */
    public static DiTConfig named(String name, int imageSize, int inChannels, int numClasses) {
        Matcher m = NAME.matcher(name == null ? "" : name.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("name: unknown model '" + name + "', expected one of "
                    + String.join(", ", publishedNames()));
        }
        require(imageSize % VAE_DOWNSAMPLE == 0, "image_size",
                "must be a multiple of " + VAE_DOWNSAMPLE + " (the VAE downsampling), got " + imageSize);
        int[] s = SIZES.get(m.group(1));
        return new DiTConfig(imageSize / VAE_DOWNSAMPLE, Integer.parseInt(m.group(2)), inChannels, s[1], s[0], s[2],
                4.0, 0.1, numClasses, true, Conditioning.ADALN_ZERO);
    }

    public DiTConfig withConditioning(Conditioning c) {
        return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio,
                classDropoutProb, numClasses, learnSigma, c);
    }

    /** Tokens per side of the patch grid. */
    public int gridSize() {
        return inputSize / patchSize;
    }

    /** Number of patch tokens T = (H/p)(W/p). */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Output channels: 2C with learned sigma (ε and the variance interpolation v), else C. */
    public int outChannels() {
        return learnSigma ? 2 * inChannels : inChannels;
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /**
     * Whether the model has a "null" class to guide against: only when it was trained with label dropout
     * (class_dropout_prob > 0), as the reference's {@code LabelEmbedder} ({@code use_cfg_embedding}).
     */
    public boolean hasNullClass() {
        return classDropoutProb > 0;
    }

    /** Rows of the label embedding table: num_classes, + 1 for the null class when {@link #hasNullClass()}. */
    public int labelRows() {
        return numClasses + (hasNullClass() ? 1 : 0);
    }

    /**
     * Index of the "null" class used for classifier-free guidance and label dropout (= num_classes). A model
     * without label dropout has no such row ({@link #hasNullClass()}); the index is then never embedded.
     */
    public int nullClass() {
        return numClasses;
    }

    /** The label table's key, as the reference's {@code state_dict} names it. */
    public static final String LABEL_TABLE = "y_embedder.embedding_table.weight";

    /**
     * This shape matched to weights whose label table has {@code rows} rows: num_classes rows is a model trained
     * without label dropout (class_dropout_prob 0, no null class), num_classes + 1 one with it (this config's
     * class_dropout_prob when above 0, else the reference's 0.1).
     *
     * @throws IllegalArgumentException rows is neither, naming the key and both expected counts
     */
    public DiTConfig withLabelRows(long rows) {
        if (rows == numClasses) {
            return withClassDropoutProb(0);
        }
        if (rows == numClasses + 1L) {
            return hasNullClass() ? this : withClassDropoutProb(0.1);
        }
        throw new IllegalArgumentException("num_classes: " + numClasses + " classes need " + numClasses + " rows (no null "
                + "class) or " + (numClasses + 1) + " (with the null class) in " + LABEL_TABLE + ", the weights have " + rows);
    }

    /** This shape with another class_dropout_prob (e.g. 0 for weights whose table has no null row). */
    public DiTConfig withClassDropoutProb(double p) {
        return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio, p, numClasses,
                learnSigma, conditioning);
    }
}
