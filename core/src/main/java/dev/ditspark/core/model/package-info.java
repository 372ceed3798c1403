/**
 * The Diffusion Transformer (Peebles &amp; Xie 2022) with the reference's state_dict keys: {@link
 * dev.ditspark.core.model.DiT}, the adaLN-Zero {@link dev.ditspark.core.model.DiTBlock} and the ablation blocks,
 * attention, MLP, embedders, final layer and {@link dev.ditspark.core.model.DiTConfig}, written with the layers of
 * {@code dev.ditspark.core.nn}. The facts come from docs/model.md; the conditioning ablations are their own block
 * classes.
 */
package dev.ditspark.core.model;
