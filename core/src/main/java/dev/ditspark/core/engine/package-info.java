/**
 * The only package that touches DJL's engine internals ({@code ai.djl.pytorch.*}): the PyTorch engine's setup,
 * grad mode ({@link dev.ditspark.core.engine.GradientTape}, {@link dev.ditspark.core.engine.NoGrad}), gradients,
 * a tensor's own memory for the collectives, the fused TorchScript ops and matmul precision, and scopes that free a
 * forward pass's intermediates. Everything else uses DJL's public API; {@code EngineBoundaryTest} keeps it so.
 */
package dev.ditspark.core.engine;
