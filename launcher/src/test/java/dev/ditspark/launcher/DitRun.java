package dev.ditspark.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One {@code dit} command line run in this JVM, as bin/dit runs it: its exit code and what it printed. */
record DitRun(int code, String out, String err) {

    static DitRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = DitCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new DitRun(code, out.toString(), err.toString());
    }

    /** Both streams, for assertion messages. */
    String all() {
        return out + err;
    }
}
