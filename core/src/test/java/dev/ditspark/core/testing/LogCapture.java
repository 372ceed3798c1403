package dev.ditspark.core.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.OutputStreamAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** Everything logged (all loggers, DEBUG and up, with exceptions) while open; {@link #text()} returns it. */
public final class LogCapture implements AutoCloseable {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final OutputStreamAppender appender;
    private final LoggerContext ctx;
    private final Level previous;
    private final String name = "capture-" + System.nanoTime();

    public LogCapture() {
        ctx = (LoggerContext) LogManager.getContext(false);
        appender = OutputStreamAppender.newBuilder().setName(name).setTarget(out)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c %m %ex%n").build()).build();
        appender.start();
        previous = ctx.getConfiguration().getRootLogger().getLevel();
        ctx.getConfiguration().getRootLogger().addAppender(appender, Level.ALL, null);
        ctx.getConfiguration().getRootLogger().setLevel(Level.DEBUG);
        ctx.updateLoggers();
    }

    public synchronized String text() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        ctx.getConfiguration().getRootLogger().removeAppender(name);
        ctx.getConfiguration().getRootLogger().setLevel(previous);
        ctx.updateLoggers();
        appender.stop();
    }
}
