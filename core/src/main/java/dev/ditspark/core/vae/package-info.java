/**
 * The KL-f8 autoencoder of Stable Diffusion (encoder, decoder, posterior), loaded from the diffusers weights, that
 * maps images to the latents DiT is trained on and back.
 */
package dev.ditspark.core.vae;
