package dev.ditspark.launcher;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The ranges of every numeric option of every {@code dit} command, in one place, checked after parsing and
 * before a command runs: a whole number must be at least 1 unless listed here as allowed 0 ({@code --gpu},
 * {@code --step}, {@code --warmup}, each {@code --labels} value) or any value ({@code --seed}); a real number
 * must be finite, {@code --cfg-scale} at least 1. A value out of range is a {@link CommandLine.ParameterException}
 * naming the option ("--batch: must be at least 1, got 0"), printed as one line by {@link DitCommand}.
 */
final class OptionRules {
    private OptionRules() { }

    /** Options whose whole numbers may be 0. */
    private static final Set<String> NON_NEGATIVE = Set.of("--gpu", "--step", "--warmup", "--labels");
    /** Options whose whole numbers may be anything. */
    private static final Set<String> ANY = Set.of("--seed");
    /** Least value of real-number options; others need only be finite. */
    private static final Map<String, Double> REAL_MIN = Map.of("--cfg-scale", 1.0);

    /** Checks the options given on the command line of the command that will run. */
    static void check(ParseResult parsed) {
        ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        for (OptionSpec o : leaf.matchedOptions()) {
            Object value = o.getValue();
            if (value instanceof Collection<?> values) {
                for (Object v : values) {
                    checkOne(leaf.commandSpec().commandLine(), o.longestName(), v);
                }
            } else {
                checkOne(leaf.commandSpec().commandLine(), o.longestName(), value);
            }
        }
    }

    static void checkOne(CommandLine cl, String option, Object value) {
        if (value instanceof Integer || value instanceof Long) {
            long v = ((Number) value).longValue();
            if (ANY.contains(option)) {
                return;
            }
            long min = NON_NEGATIVE.contains(option) ? 0 : 1;
            if (v < min) {
                throw new CommandLine.ParameterException(cl, option + ": must be at least " + min + ", got " + v);
            }
        } else if (value instanceof Double || value instanceof Float) {
            double v = ((Number) value).doubleValue();
            if (!Double.isFinite(v)) {
                throw new CommandLine.ParameterException(cl, option + ": must be a finite number, got " + v);
            }
            Double min = REAL_MIN.get(option);
            if (min != null && v < min) {
                throw new CommandLine.ParameterException(cl, String.format(Locale.ROOT,
                        "%s: must be at least %s, got %s", option, fmt(min), fmt(v)));
            }
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
