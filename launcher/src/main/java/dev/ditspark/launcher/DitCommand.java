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
            EvalCommand.class, PlotCommand.class, ConvertCommand.class, InfoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
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
        // Every numeric option's range, checked before any command starts (OptionRules).
        cl.setExecutionStrategy(parsed -> {
            OptionRules.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        // A bad argument: one line naming the option and where the options are listed, not the whole usage.
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("dit: " + ex.getMessage() + " (see '" + cmd.getCommandSpec().qualifiedName()
                    + " --help')");
            cmd.getErr().flush();
            return 2;
        });
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
            cmd.getErr().println("dit: " + Secrets.redact(message(e)));
            if (System.getenv("DIT_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return code;
        });
        return cl;
    }

    /**
     * The line for an error: its message, with the reason spelled out for the JDK's file errors (whose message
     * is the bare path).
     */
    static String message(Exception e) {
        Throwable t = e instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        if (t instanceof java.nio.file.FileSystemException f && f.getReason() == null && f.getFile() != null) {
            String what = f instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                    : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                    : f instanceof java.nio.file.NotDirectoryException ? "not a directory"
                    : f instanceof java.nio.file.DirectoryNotEmptyException ? "directory not empty"
                    : "cannot be accessed";
            return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what;
        }
        return e.getMessage();
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
