package dev.ditspark.core.sample;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.diffusion.ClassifierFreeGuidance;
import dev.ditspark.core.model.DiTConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code dit sample} is asked for, as typed values: the weights (a run's checkpoint, or a reference-named file
 * with the model's name), which samples ({@link SampleSelection}), the sampling settings that override the run's
 * {@code sample:} block, the seed, chunk size, output directory and VAE. Where it runs (here, {@code --workers},
 * {@code --master}) is the caller's. {@code dit demo} builds one with {@link #fromCheckpoint}.
 *
 * @param checkpoint a run's checkpoint directory (URI), or null for {@code weights}
 * @param step with {@code checkpoint}: the committed step, or null for the newest intact one
 * @param raw with {@code checkpoint}: the raw training weights instead of the EMA
 * @param weights reference-named DiT weights (.safetensors), or null for {@code checkpoint}
 * @param model with {@code weights}: DiT-S/2 ... DiT-XL/8
 * @param imageSize with {@code weights}: pixels a side
 * @param numClasses with {@code weights}: classes of the label table
 * @param seed noise seed: sample i's noise (and uniform label) depends on (seed, i) alone
 * @param steps respaced steps ("250", "ddim50"), or null for the run's {@code sample.steps}
 * @param sampler "ddpm" or "ddim", or null for the run's
 * @param cfgScale guidance scale, or null for the run's
 * @param guideAllChannels guide all latent channels, not the reference's first 3
 * @param batch samples per chunk (≥ 1)
 * @param out output directory: a local path or a Hadoop URI
 * @param vae the KL VAE that decodes latents, or null for a pixel-space model
 */
public record SampleRequest(String checkpoint, Long step, boolean raw, Path weights, String model, int imageSize,
        int numClasses, SampleSelection selection, long seed, String steps, String sampler, Double cfgScale,
        boolean guideAllChannels, int batch, String out, Path vae) {

    /** {@code dit sample}'s defaults for a run's checkpoint (its EMA, newest step, seed 0, chunks of 64, no VAE). */
    public static SampleRequest fromCheckpoint(String checkpoint, SampleSelection selection, String out) {
        return new SampleRequest(checkpoint, null, false, null, null, 256, 1000, selection, 0, null, null, null, false,
                64, out, null);
    }

    public boolean fromCheckpoint() {
        return checkpoint != null;
    }

    /** True when {@code out} is a URI (hdfs://, s3a://, file://), not a local path. */
    public boolean outIsUri() {
        return out.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*");
    }

    /**
     * The run's (or the defaults') sampling settings with this request's overrides; a bad override is named by its
     * option ({@code --steps}, {@code --sampler}, {@code --cfg-scale}).
     */
    public SampleSpec spec(SampleSpec defaults) {
        try {
            return new SampleSpec(steps != null ? steps : defaults.steps(), sampler != null ? sampler : defaults.sampler(),
                    cfgScale != null ? cfgScale : defaults.cfgScale(), guideAllChannels || defaults.guideAllChannels(),
                    defaults.eta());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("sample.steps", "--steps")
                    .replace("sample.sampler", "--sampler").replace("sample.cfg_scale", "--cfg-scale"), e);
        }
    }

    /**
     * Refuses guidance on a model without a null class (trained with class_dropout_prob 0), naming where the scale
     * came from: {@code --cfg-scale}, the run's {@code sample.cfg_scale}, or the default.
     *
     * @param fromRun true when the defaults are a run's {@code sample:} block
     */
    public void checkGuidance(SampleSpec s, DiTConfig cfg, boolean fromRun) {
        if (s.cfgScale() != 1.0 && !cfg.hasNullClass()) {
            throw new IllegalArgumentException((cfgScale != null ? "--cfg-scale"
                    : fromRun ? "the run's sample.cfg_scale" : "--cfg-scale (default)") + ": "
                    + ClassifierFreeGuidance.noNullClassMessage(s.cfgScale()));
        }
    }

    /**
     * The plan every worker runs.
     *
     * @param y the labels, {@code selection().labels(cfg.numClasses(), seed())}
     * @param weightsIdentity what the weights are (a checkpoint step, or a file's name, size and time); credentials
     *     are redacted before it reaches request.json
     * @param checkpointUri with {@code checkpoint}: the store's URI; {@code checkpointStep}: its chosen step
     * @param ship true when {@code weights} and {@code vae} travel to the executors (spark-submit --files): the plan
     *     names them by file name
     */
    public SamplePlan plan(DiTConfig cfg, SampleSpec s, SampleLabels y, String weightsIdentity, String checkpointUri,
            long checkpointStep, boolean ship) {
        return new SamplePlan(checkpointUri, checkpointStep, raw, fromCheckpoint() ? null : located(weights, ship),
                ship && !fromCheckpoint(), SamplePlan.Shape.of(cfg), vae == null ? null : located(vae, ship),
                ship && vae != null, s.steps(), s.sampler(), s.cfgScale(), s.guideAllChannels(), s.eta(), seed, y, batch,
                outIsUri() ? out : Path.of(out).toAbsolutePath().normalize().toString(),
                identity(weightsIdentity, cfg, s, y), selection.grid(y));
    }

    private static String located(Path file, boolean ship) {
        return ship ? file.getFileName().toString() : file.toAbsolutePath().toString();
    }

    /**
     * What the chunks of a resumable run must agree on: weights, sampling settings, seed, labels and VAE (not
     * {@code batch}: sample i's noise depends only on the seed and i), as JSON.
     */
    String identity(String weightsIdentity, DiTConfig cfg, SampleSpec s, SampleLabels y) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("weights", Secrets.redact(weightsIdentity)); // a URI's credentials never reach a file
        r.put("model", cfg.toString());
        r.put("steps", s.steps());
        r.put("sampler", s.sampler());
        r.put("cfg_scale", s.cfgScale());
        r.put("guide_all_channels", s.guideAllChannels());
        r.put("eta", s.eta());
        r.put("seed", seed);
        long[] all = y.toArray();
        r.put("labels", Arrays.hashCode(all) + "/" + all.length);
        try {
            r.put("vae", vae == null ? null : fileIdentity(vae));
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A local file's name, size and modification time: what tells a resumed request it has the same file. */
    public static String fileIdentity(Path file) throws IOException {
        return file.getFileName() + " " + Files.size(file) + " bytes, modified " + Files.getLastModifiedTime(file);
    }
}
