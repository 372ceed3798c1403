/**
 * The {@link dev.ditspark.core.collective.Collective} API (allreduce, broadcast, barrier over a rank's tensors) and its
 * backends: {@code tcp}, a ring allreduce over sockets for CPUs, and {@code nccl} on the tensors' device memory.
 * See docs/collective.md.
 */
package dev.ditspark.core.collective;
