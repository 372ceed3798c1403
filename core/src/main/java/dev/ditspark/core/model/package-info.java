/**
 * The Diffusion Transformer (Peebles & Xie 2022) with the reference's state_dict keys, and the small neural-net
 * library it is written with ({@link dev.ditspark.core.nn.Module}, {@link dev.ditspark.core.nn.Parameter},
 * {@link dev.ditspark.core.nn.Linear}, {@link dev.ditspark.core.nn.Functional}). The facts come from
 * docs/model.md; the conditioning ablations are their own block classes.
 */
package dev.ditspark.core.model;
