package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.ditspark.core.model.DiTConfig;
import java.util.List;

/**
 * {@code sample:} how to sample: respaced steps ("250", "ddim50"), sampler, guidance; and the grids a run draws
 * while it trains.
 *
 * @param guideAllChannels guide all latent channels instead of the reference's first 3
 * @param every every this many optimizer steps (and at the run's last step), rank 0 samples a grid from the EMA
 *     weights into {@code RUN_DIR/samples/step-NNNNNNNNN.png} (TrainingSamples); 0 (the default) draws none
 * @param gridLabels the classes of the grid's rows, one row each (null: up to 10 classes spread evenly over the
 *     model's labels, {@link #gridLabelsFor})
 * @param gridPerLabel samples per row (default 8)
 * @param vae latent models: the KL VAE safetensors (a path, or a URI on any Hadoop FileSystem) that decodes the
 *     grid's latents; pixel models need none
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SampleSpec(String steps, String sampler, Double cfgScale, Boolean guideAllChannels, Double eta,
        Long every, List<Long> gridLabels, Integer gridPerLabel, String vae) {
    /** Rows of a grid when sample.grid_labels is not given. */
    public static final int DEFAULT_GRID_ROWS = 10;

    public SampleSpec {
        steps = orDefault(steps, "250");
        sampler = orDefault(sampler, "ddpm");
        cfgScale = orDefault(cfgScale, 4.0);
        guideAllChannels = orDefault(guideAllChannels, false);
        eta = orDefault(eta, 0.0);
        every = orDefault(every, 0L);
        gridPerLabel = orDefault(gridPerLabel, 8);
        gridLabels = gridLabels == null ? null : List.copyOf(gridLabels);
        dev.ditspark.core.diffusion.TimestepSpacing.parse("sample.steps", steps, 1000); // names the field if bad
        require(sampler.equals("ddpm") || sampler.equals("ddim"), "sample.sampler", "ddpm or ddim, got " + sampler);
        require(cfgScale >= 1, "sample.cfg_scale", "must be at least 1 (1 = no guidance), got " + cfgScale);
        require(eta >= 0, "sample.eta", "must not be negative, got " + eta);
        require(every >= 0, "sample.every", "must not be negative (0 = no grids while training), got " + every);
        require(gridPerLabel > 0, "sample.grid_per_label", "must be positive, got " + gridPerLabel);
        require(gridLabels == null || !gridLabels.isEmpty(), "sample.grid_labels", "give at least one class (or leave it out)");
        require(gridLabels == null || gridLabels.stream().allMatch(l -> l != null && l >= 0), "sample.grid_labels",
                "classes are whole numbers from 0, got " + gridLabels);
        require(vae == null || !vae.isBlank(), "sample.vae", "must name a VAE safetensors file (or be left out)");
        Secrets.requireNoCredentials("sample.vae", vae);
    }

    /** Sampling settings only (no grids while training): what {@code dit sample} and the benchmarks build. */
    public SampleSpec(String steps, String sampler, Double cfgScale, Boolean guideAllChannels, Double eta) {
        this(steps, sampler, cfgScale, guideAllChannels, eta, null, null, null, null);
    }

    public static SampleSpec defaults() {
        return new SampleSpec(null, null, null, null, null);
    }

    /**
     * The rows of the grid for a model with {@code numClasses} labels: sample.grid_labels, else
     * {@value #DEFAULT_GRID_ROWS} classes spread evenly (0..9 for 10 classes; 0, 100, ..., 900 for ImageNet).
     */
    public long[] gridLabelsFor(int numClasses) {
        if (gridLabels != null) {
            return gridLabels.stream().mapToLong(Long::longValue).toArray();
        }
        int rows = Math.min(DEFAULT_GRID_ROWS, numClasses);
        long[] y = new long[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = (long) i * numClasses / rows;
        }
        return y;
    }

    /**
     * Checks the fields that depend on the model: grid labels within its classes, and guidance it can give when the
     * run samples while training ({@code samplesWhileTraining}); the VAE is checked when it is opened.
     *
     * @throws ConfigException naming sample.grid_labels, sample.cfg_scale or sample.vae
     */
    void checkAgainst(DiTConfig model, boolean samplesWhileTraining) {
        if (gridLabels != null) {
            for (long l : gridLabels) {
                require(l < model.numClasses(), "sample.grid_labels", l + " is not a class of this model (0.."
                        + (model.numClasses() - 1) + ")");
            }
        }
        require(!samplesWhileTraining || cfgScale == 1.0 || model.hasNullClass(), "sample.cfg_scale",
                "the grids (sample.every) and evaluations (eval.every) sample with guidance " + cfgScale + ", but the model "
                        + "has no null class (model.class_dropout_prob 0): set sample.cfg_scale 1");
        require(!samplesWhileTraining || vae != null || model.inChannels() == 1 || model.inChannels() == 3, "sample.vae",
                "this model samples " + model.inChannels() + "-channel latents: give the KL VAE the data was encoded with "
                        + "to decode the grids and evaluations of sample.every / eval.every (or set them to 0)");
    }
}
