/**
 * The Diffusion Transformer (Peebles & Xie 2022) with the reference's state_dict keys, and the small neural-net
 * library it is written with ({@link dev.ditspark.core.model.Module}, {@link dev.ditspark.core.model.Parameter},
 * {@link dev.ditspark.core.model.Linear}, {@link dev.ditspark.core.model.Functional}). The facts come from
 * docs/model.md; the conditioning ablations are their own block classes.
 */
package dev.ditspark.core.model;
