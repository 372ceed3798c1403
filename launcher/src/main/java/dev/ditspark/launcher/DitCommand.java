package dev.ditspark.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dit} command: one entry point with a subcommand per task. */
@Command(
        name = "dit",
        mixinStandardHelpOptions = true,
        version = "dit-spark 0.1.0",
        description = "Diffusion Transformers (DiT) on Spark: model info and tools.",
        subcommands = {DemoCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class, InfoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
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
            if (e instanceof IllegalArgumentException) {
                cmd.getErr().println("dit: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
