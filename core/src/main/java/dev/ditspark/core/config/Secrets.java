package dev.ditspark.core.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of everything dit-spark prints or stores. Two rules:
 * <ol>
 * <li>credentials written inside a URI ({@code s3a://KEY:SECRET@bucket/path}) are refused where the URI is given
 *     ({@link #requireNoCredentials}), with a line naming the option and the right way: Hadoop's
 *     {@code fs.s3a.access.key} / {@code fs.s3a.secret.key} (as {@code --conf spark.hadoop.fs.s3a.…}, in
 *     core-site.xml) or the {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY} environment. A refused URI
 *     never reaches Hadoop (whose own warning would print it), a checkpoint's state.json, a dataset's manifest or
 *     report, or the Spark UI, because the run never starts;</li>
 * <li>{@link #redact} is the safety net for text that may still carry one (an error message quoting what the
 *     user typed, a library's log line): the command line's error handler and the console log layout apply it.</li>
 * </ol>
 */
public final class Secrets {
    /** {@code scheme://user:password@} or {@code scheme://token@}: the user-info part of a URI. */
    private static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*:/{1,3})([^/@\\s'\"]+)@");
    /** {@code fs.s3a.secret.key=…}, {@code secret_key: …}, {@code password=…}, {@code token=…} and the like. */
    private static final Pattern KEY_VALUE = Pattern.compile(
            "(?i)((?:secret|password|passwd|token|access[._-]?key|session[._-]?key)[A-Za-z0-9._-]*\\s*[=:]\\s*)([^\\s,;&'\"}]+)");
    private static final String HIDDEN = "***";

    private Secrets() {
    }

    /** Whether {@code uri} carries user info (credentials) before its host. */
    public static boolean hasCredentials(String uri) {
        return uri != null && USER_INFO.matcher(uri).find();
    }

    /**
     * Refuses a URI with credentials in it.
     *
     * @param option the option or config field that gave it, e.g. {@code data.uri} or {@code --output}
     * @throws ConfigException naming {@code option}, showing the URI redacted, saying where credentials go
     */
    public static String requireNoCredentials(String option, String uri) {
        if (hasCredentials(uri)) {
            throw new ConfigException(option + ": " + redact(uri) + " carries credentials in the URI; they would be "
                    + "printed and stored with it, so dit refuses them. Give the URI without them and the keys through "
                    + "Hadoop (--conf spark.hadoop.fs.s3a.access.key=... and spark.hadoop.fs.s3a.secret.key=..., or "
                    + "core-site.xml) or the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
        }
        return uri;
    }

    /** {@code text} with every URI's user info and every secret-looking key=value replaced by {@code ***}. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = USER_INFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + HIDDEN + "@"));
        return KEY_VALUE.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + HIDDEN));
    }
}
