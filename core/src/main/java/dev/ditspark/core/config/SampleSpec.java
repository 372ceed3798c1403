package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code sample:} how to sample: respaced steps ("250", "ddim50"), sampler, guidance.
 *
 * @param guideAllChannels guide all latent channels instead of the reference's first 3
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SampleSpec(String steps, String sampler, Double cfgScale, Boolean guideAllChannels, Double eta) {
    public SampleSpec {
        steps = orDefault(steps, "250");
        sampler = orDefault(sampler, "ddpm");
        cfgScale = orDefault(cfgScale, 4.0);
        guideAllChannels = orDefault(guideAllChannels, false);
        eta = orDefault(eta, 0.0);
        dev.ditspark.core.diffusion.TimestepSpacing.parse("sample.steps", steps, 1000); // names the field if bad
        require(sampler.equals("ddpm") || sampler.equals("ddim"), "sample.sampler", "ddpm or ddim, got " + sampler);
        require(cfgScale >= 1, "sample.cfg_scale", "must be at least 1 (1 = no guidance), got " + cfgScale);
        require(eta >= 0, "sample.eta", "must not be negative, got " + eta);
    }

    public static SampleSpec defaults() {
        return new SampleSpec(null, null, null, null, null);
    }
}
