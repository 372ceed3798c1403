package dev.ditspark.launcher;

import ai.djl.Device;
import picocli.CommandLine.Option;

/**
 * {@code --gpu INDEX}, the same on every command that runs a model in this JVM ({@code dit train}, {@code dit sample},
 * {@code dit bench}): a picocli mixin. The index is checked non-negative by {@link OptionRules}; each command says
 * itself where a GPU does not apply (several Spark workers take theirs from Spark).
 */
final class GpuOption {
    @Option(names = "--gpu", paramLabel = "INDEX",
            description = "Run on this CUDA device (0, 1, ...) instead of the CPU; one worker in this JVM.")
    Integer gpu;

    /** The device chosen: the CUDA device {@code --gpu} names, else the CPU. */
    Device device() {
        return gpu == null ? Device.cpu() : Device.gpu(gpu);
    }
}
