package dev.ditspark.launcher;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --set KEY=VALUE} (repeatable), the same on every command that loads a run config ({@code dit train},
 * {@code dit demo}): a picocli mixin. The overrides are applied in order by
 * {@link dev.ditspark.core.config.RunConfig#load(java.nio.file.Path, List)}, which names a bad key or value.
 */
final class ConfigOverrides {
    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override a config field, e.g. train.lr=2e-4 (repeatable).")
    List<String> overrides = new ArrayList<>();
}
