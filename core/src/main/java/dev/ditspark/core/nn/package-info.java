/**
 * The project's small neural-net library, written over DJL's NDArray: {@link dev.ditspark.core.nn.Module} (a node
 * of the PyTorch state_dict tree, keys joined with '.'), {@link dev.ditspark.core.nn.ModuleList},
 * {@link dev.ditspark.core.nn.Parameter} (a tensor with its initialiser and gradient),
 * {@link dev.ditspark.core.nn.Init}, the layers {@link dev.ditspark.core.nn.Linear}, {@link dev.ditspark.core.nn.Conv2d} and
 * {@link dev.ditspark.core.nn.GroupNorm}, and the stateless ops in {@link dev.ditspark.core.nn.Functional}. Used by
 * the DiT ({@code model/}), the autoencoder ({@code vae/}), the evaluation networks ({@code eval/}), training,
 * diffusion, sampling and the state_dict mapping ({@code weights/}); it uses only {@code engine/} and DJL.
 */
package dev.ditspark.core.nn;
