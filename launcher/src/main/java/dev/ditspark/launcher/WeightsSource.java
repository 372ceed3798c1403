package dev.ditspark.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Where {@code dit sample} and {@code dit convert} take weights from: a run's checkpoint (its EMA unless
 * {@code --raw}, the newest committed step unless {@code --step}) or a reference-named safetensors file.
 */
final class WeightsSource {

    static final class Choice {
        @Option(names = "--checkpoint", paramLabel = "URI", description = "A run's checkpoint directory (newest step unless --step).")
        String checkpoint;

        @Option(names = "--weights", paramLabel = "FILE", description = "Reference-named weights (.safetensors).")
        Path weights;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--step", description = "Checkpoint step (default: the newest committed).")
    Long step;

    @Option(names = "--raw", description = "The raw training weights instead of the EMA.")
    boolean raw;

    boolean fromCheckpoint() {
        return choice.checkpoint != null;
    }

    Path weights() {
        return choice.weights;
    }

    /** The chosen committed checkpoint of a run, with the run's configuration. */
    record RunCheckpoint(CheckpointStore store, long step, RunConfig config, boolean raw) {
        /** The weights file of this checkpoint: "ema", or "model" with --raw. */
        SafetensorsFile open() {
            return store.openTensors(step, raw ? "model" : "ema");
        }

        String describe() {
            return store.uri() + "/" + CheckpointStore.directoryName(step);
        }
    }

    RunCheckpoint checkpoint() {
        return checkpoint(choice.checkpoint, step, raw);
    }

    /** The committed checkpoint {@code step} (null: the newest intact one) of the run at {@code uri}. */
    static RunCheckpoint checkpoint(String uri, Long step, boolean raw) {
        dev.ditspark.core.config.Secrets.requireNoCredentials("--checkpoint", uri);
        CheckpointStore store = CheckpointStore.open(uri, new Configuration());
        // Every file is checked against its CRC32C first: a damaged newest checkpoint falls back to the previous
        // one (with a warning), a damaged --step is refused naming the file.
        long at = step != null ? step : store.latestIntactStep().orElseThrow(() -> new IllegalArgumentException(
                "--checkpoint " + uri + ": no intact committed checkpoint there"));
        if (step != null) {
            store.verify(step);
        }
        RunConfig run = RunConfig.bind((ObjectNode) store.readState(at).config(), List.of(), store.uri() + " step " + at);
        return new RunCheckpoint(store, at, run, raw);
    }
}
