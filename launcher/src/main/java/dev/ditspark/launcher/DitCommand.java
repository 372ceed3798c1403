package dev.ditspark.launcher;

import dev.ditspark.core.checkpoint.CheckpointException;
import dev.ditspark.core.config.Secrets;
import dev.ditspark.core.data.DatasetFormatException;
import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.errors.JobFailedException;
import dev.ditspark.core.train.TrainingDivergedException;
import dev.ditspark.core.weights.WeightFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dit} command: one entry point with a subcommand per task. */
@Command(
        name = "dit",
        mixinStandardHelpOptions = true,
        version = "dit-spark 0.1.0",
        description = {"Diffusion Transformers (DiT, Peebles & Xie 2022) trained data-parallel on Spark.", ""},
        footer = {"", "The path: dit demo (try it) -> dit prepare (images -> VAE latents) -> dit train",
            "(--workers N here, --master for a cluster) -> dit sample -> dit eval.",
            "'dit help COMMAND' for each; README.md for the walk-through; configs in conf/."},
        subcommands = {DemoCommand.class, PrepareCommand.class, TrainCommand.class, SampleCommand.class,
            EvalCommand.class, ConvertCommand.class, InfoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class DitCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with the project's error handling: a bad argument prints one line, not a trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DitCommand());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // Errors of the user's input or data carry a message naming the file, key or field: print that line
            // (DIT_DEBUG=1 adds the stack trace); anything else is a bug and keeps its trace.
            int code;
            if (e instanceof IllegalArgumentException) {
                code = 2;
            } else if (e instanceof WeightFormatException || e instanceof DatasetFormatException
                    || e instanceof CheckpointException || e instanceof TrainingDivergedException
                    || e instanceof DitUserError || e instanceof JobFailedException
                    || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
                code = 1;
            } else {
                throw e;
            }
            // Secrets.redact: a message may quote what the user typed, credentials included.
            cmd.getErr().println("dit: " + Secrets.redact(e.getMessage()));
            if (System.getenv("DIT_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return code;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
