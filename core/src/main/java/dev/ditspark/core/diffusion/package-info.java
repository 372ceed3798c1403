/**
 * Gaussian diffusion as the DiT release uses it: the linear schedule and its respacing, the hybrid training loss,
 * DDPM and DDIM sampling, classifier-free guidance. The facts come from docs/diffusion.md.
 */
package dev.ditspark.core.diffusion;
