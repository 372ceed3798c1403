package dev.ditspark.core.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.nn.Conv2d;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * Stable Diffusion's KL autoencoder (diffusers' {@code AutoencoderKL}) for the offline latent preprocessing
 * and for decoding samples: {@code encoder}, {@code quant_conv} (1×1, 2·latent), {@code post_quant_conv}
 * (1×1, latent), {@code decoder}, under diffusers' state_dict names so the published safetensors load as they are.
 *
 * <p>Inference only: parameters are never trained (DJL records no autograd outside a gradient collector).
 */
public final class AutoencoderKL extends Module {
    private final VaeConfig config;
    private final VaeEncoder encoder;
    private final VaeDecoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;

    public AutoencoderKL(VaeConfig config) {
        this(config, AttentionKeys.CURRENT);
    }

    public AutoencoderKL(VaeConfig config, AttentionKeys keys) {
        this.config = config;
        int l = config.latentChannels();
        this.encoder = child("encoder", new VaeEncoder(config, keys));
        this.decoder = child("decoder", new VaeDecoder(config, keys));
        this.quantConv = child("quant_conv", Conv2d.pointwise(2 * l, 2 * l));
        this.postQuantConv = child("post_quant_conv", Conv2d.pointwise(l, l));
    }

    public VaeConfig config() {
        return config;
    }

    /**
     * Loads a diffusers AutoencoderKL safetensors file: its config from the metadata ({@link VaeConfig#METADATA_KEY},
     * KL-f8 when absent), either spelling of the attention keys, all keys checked strictly (errors name the file
     * and the keys).
     */
    public static AutoencoderKL load(Path file, NDManager manager) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return load(f, manager);
        }
    }

    public static AutoencoderKL load(SafetensorsFile f, NDManager manager) throws IOException {
        return load(f, manager, Set.of());
    }

    /** As {@link #load(SafetensorsFile, NDManager)}, with {@code ignored} keys of the file that are not weights. */
    public static AutoencoderKL load(SafetensorsFile f, NDManager manager, Set<String> ignored) throws IOException {
        String json = f.metadata().get(VaeConfig.METADATA_KEY);
        VaeConfig config = json == null ? VaeConfig.SD_KL_F8
                : VaeConfig.fromJson(json, f.displayName() + " metadata '" + VaeConfig.METADATA_KEY + "'");
        AttentionKeys keys = f.contains("encoder.mid_block.attentions.0.query.weight")
                ? AttentionKeys.LEGACY : AttentionKeys.CURRENT;
        AutoencoderKL vae = new AutoencoderKL(config, keys);
        StateDict.load(vae, f, manager, "", ignored);
        return vae;
    }

    /**
     * Images (N, 3, H, W) in [-1, 1] → the posterior: mean and std = exp(½·logvar), logvar clamped to
     * [-30, 20] as diffusers' DiagonalGaussianDistribution does. H and W must be multiples of the downsampling.
     */
    public Posterior encode(NDArray images) {
        long h = images.getShape().get(2);
        long w = images.getShape().get(3);
        int f = config.downsampling();
        if (h % f != 0 || w % f != 0) {
            throw new IllegalArgumentException("image " + h + "x" + w + " is not a multiple of the VAE's downsampling " + f);
        }
        NDArray moments = quantConv.forward(encoder.forward(images)); // (N, 2·latent, H/f, W/f)
        NDList parts = moments.split(2, 1);
        NDArray logvar = parts.get(1).clip(-30.0, 20.0);
        return new Posterior(parts.get(0), logvar.mul(Functional.scalar(logvar, 0.5)).exp());
    }

    /** Unscaled latents (N, latent, h, w) → images (N, 3, h·f, w·f), nominally in [-1, 1]. */
    public NDArray decode(NDArray latents) {
        return decoder.forward(postQuantConv.forward(latents));
    }
}
