package dev.ditspark.core.vae;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * The shape of a diffusers {@code AutoencoderKL} (field names as in its config.json). {@link #SD_KL_F8} is
 * Stable Diffusion's KL-f8 autoencoder ({@code stabilityai/sd-vae-ft-ema} / {@code -mse}); smaller ones of the
 * same architecture are for tests. Stored as JSON in a safetensors file's metadata under {@link #METADATA_KEY};
 * a file without it (the published ones) is KL-f8.
 */
public record VaeConfig(
        @JsonProperty("in_channels") int inChannels,
        @JsonProperty("out_channels") int outChannels,
        @JsonProperty("latent_channels") int latentChannels,
        @JsonProperty("block_out_channels") List<Integer> blockOutChannels,
        @JsonProperty("layers_per_block") int layersPerBlock,
        @JsonProperty("norm_num_groups") int normNumGroups,
        @JsonProperty("scaling_factor") double scalingFactor) {

    public static final String METADATA_KEY = "vae_config";

    /** Stable Diffusion's KL-f8: 4 latent channels, downsampling 8, latents scaled by 0.18215. */
    public static final VaeConfig SD_KL_F8 = new VaeConfig(3, 3, 4, List.of(128, 256, 512, 512), 2, 32, 0.18215);

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false); // diffusers' config has more

    public VaeConfig {
        require(inChannels > 0, "in_channels", inChannels);
        require(outChannels > 0, "out_channels", outChannels);
        require(latentChannels > 0, "latent_channels", latentChannels);
        require(blockOutChannels != null && !blockOutChannels.isEmpty(), "block_out_channels", blockOutChannels);
        blockOutChannels = List.copyOf(blockOutChannels);
        require(layersPerBlock > 0, "layers_per_block", layersPerBlock);
        require(normNumGroups > 0, "norm_num_groups", normNumGroups);
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normNumGroups != 0) {
                throw new IllegalArgumentException("field 'block_out_channels': " + c + " is not a positive multiple of "
                        + "norm_num_groups " + normNumGroups);
            }
        }
        require(Double.isFinite(scalingFactor) && scalingFactor > 0, "scaling_factor", scalingFactor);
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("field '" + field + "': invalid value " + value);
        }
    }

    /** Image side / latent side: 2^(levels − 1). */
    public int downsampling() {
        return 1 << (blockOutChannels.size() - 1);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses the JSON of {@link #toJson} (or a diffusers config.json); {@code where} names it in errors. */
    public static VaeConfig fromJson(String json, String where) {
        try {
            return JSON.readValue(json, VaeConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException(where + ": invalid VAE config: " + cause.getMessage(), e);
        }
    }
}
