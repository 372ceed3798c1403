package dev.ditspark.core.weights;

import java.util.List;

/**
 * A weights file does not fit the model: the message names every missing key, unexpected key and
 * mis-shaped key, so one run shows the whole problem.
 */
public final class WeightMismatchException extends WeightFormatException {
    private static final int SHOWN = 20;
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misshapen;

    public WeightMismatchException(String file, List<String> missing, List<String> unexpected, List<String> misshapen) {
        super(file, describe(missing, unexpected, misshapen));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misshapen = List.copyOf(misshapen);
    }

    private static String describe(List<String> missing, List<String> unexpected, List<String> misshapen) {
        StringBuilder sb = new StringBuilder("weights do not match the model:");
        append(sb, "missing keys", missing);
        append(sb, "unexpected keys", unexpected);
        append(sb, "shape mismatches", misshapen);
        return sb.toString();
    }

    private static void append(StringBuilder sb, String what, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        sb.append(' ').append(items.size()).append(' ').append(what).append(' ')
                .append(items.subList(0, Math.min(SHOWN, items.size())));
        if (items.size() > SHOWN) {
            sb.setLength(sb.length() - 1);
            sb.append(", ... ").append(items.size() - SHOWN).append(" more]");
        }
        sb.append(';');
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    /** Entries "key: file [a, b] vs model [c, d]". */
    public List<String> misshapen() {
        return misshapen;
    }
}
