package dev.ditspark.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10 item 15: credentials inside URIs are refused naming the option, and redacted wherever text may carry them. */
class SecretsTest {
    private static final String KEY = "AKIDITSPARKTEST0001";
    private static final String SECRET = "s3cr3t-Never-Logged-4f1b9c";

    @TempDir
    Path dir;

    @Test
    void redactsUserInfoAndSecretKeyValues() {
        assertEquals("s3a://***@bucket/data", Secrets.redact("s3a://" + KEY + ":" + SECRET + "@bucket/data"));
        assertEquals("see hdfs://***@nn:8020/x and s3a://b/y", Secrets.redact("see hdfs://alice:pw@nn:8020/x and s3a://b/y"));
        assertEquals("--vae s3a:/***@b/vae: no such file", Secrets.redact("--vae s3a:/K:S@b/vae: no such file")); // Path-mangled
        assertEquals("fs.s3a.secret.key=*** fs.s3a.access.key = *** token: ***",
                Secrets.redact("fs.s3a.secret.key=" + SECRET + " fs.s3a.access.key = " + KEY + " token: abc"));
        String plain = "file:///tmp/run/step-000000010 committed (3 files); user@example.com";
        assertEquals(plain, Secrets.redact(plain));
        assertFalse(Secrets.hasCredentials("s3a://bucket/data"));
        assertTrue(Secrets.hasCredentials("s3a://" + KEY + ":" + SECRET + "@bucket/data"));
    }

    private RunConfig load(String... overrides) throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, """
                model: {input_size: 28, patch_size: 4, hidden_size: 32, depth: 1, num_heads: 2, in_channels: 1, num_classes: 10}
                data: {uri: 'file:///tmp/data'}
                checkpoint: {uri: 'file:///tmp/ckpt'}
                """);
        return RunConfig.load(yaml, List.of(overrides));
    }

    @Test
    void aConfigUriWithCredentialsIsRefusedNamingTheField() throws Exception {
        String inline = "s3a://" + KEY + ":" + SECRET + "@bucket/path";
        for (String field : List.of("data.uri", "checkpoint.uri", "checkpoint.init_from")) {
            ConfigException e = assertThrows(ConfigException.class, () -> load(field + "=" + inline));
            assertTrue(e.getMessage().startsWith(field + ": s3a://***@bucket/path carries credentials in the URI"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("fs.s3a.access.key"), e.getMessage());
            assertFalse(e.getMessage().contains(SECRET) || e.getMessage().contains(KEY), e.getMessage());
        }
        load("data.uri=s3a://bucket/path"); // without credentials: fine
    }

    /** The console layout of conf/log4j2.xml (which the tests run with) hides URI credentials in any logger's line. */
    @Test
    void theConsoleLayoutHidesCredentialsAndTraces() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Appender console = ctx.getConfiguration().getAppenders().get("stderr");
        assertTrue(console != null, "conf/log4j2.xml is the test's configuration (appender stderr)");
        Exception cause = new IllegalStateException("cannot open s3a://" + KEY + ":" + SECRET + "@bucket/x");
        Log4jLogEvent event = Log4jLogEvent.newBuilder().setLoggerName("org.apache.hadoop.fs.s3a.S3AFileSystem")
                .setLevel(Level.WARN).setMessage(new SimpleMessage("Lost task 0.0: s3a://" + KEY + ":" + SECRET
                        + "@bucket/data failed\n\tat org.example.A.b(A.java:1)\n\tat org.example.C.d(C.java:2)"))
                .setThrown(cause).build();
        String line = console.getLayout().toSerializable(event).toString();
        assertFalse(line.contains(SECRET) || line.contains(KEY), line);
        assertTrue(line.contains("s3a://***@bucket/data failed (stack trace: DIT_DEBUG=1)"), line);
        assertTrue(line.contains("[java.lang.IllegalStateException: cannot open s3a://***@bucket/x]"), line);
        assertEquals(1, line.strip().lines().count(), line);
    }
}
