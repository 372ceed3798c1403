/**
 * Benchmarks behind {@code dit bench} and the GPU check: forward+backward, training step, sampling, memory, allreduce,
 * shard reading and VAE encoding. They print figures and never assert on time; results and commands are in
 * docs/benchmarks.md.
 */
package dev.ditspark.core.bench;
