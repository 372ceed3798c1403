package dev.ditspark.core.diffusion;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Which original steps a respaced sampler keeps, as the reference's {@code space_timesteps}: {@code "250"}, sections
 * such as {@code "10,10,5"}, or {@code "ddimN"} (docs/diffusion.md, "Respacing", which also gives the running-sum
 * arithmetic that decides N = 21).
 *
 * @param spec the text it was parsed from
 * @param keptSteps the kept original steps, ascending, distinct
 */
public record TimestepSpacing(String spec, long[] keptSteps) {
    /** The config field the sampling step count usually comes from; named in parse errors by default. */
    public static final String DEFAULT_FIELD = "sampling_steps";

    private static final String DDIM = "ddim";

    public TimestepSpacing {
        keptSteps = keptSteps.clone();
    }

    @Override
    public long[] keptSteps() {
        return keptSteps.clone();
    }

    /** The number of kept steps. */
    public int size() {
        return keptSteps.length;
    }

    /** {@link #parse(String, String, int)} with the field named {@value #DEFAULT_FIELD}. */
    public static TimestepSpacing parse(String spec, int numTimesteps) {
        return parse(DEFAULT_FIELD, spec, numTimesteps);
    }

    /**
     * Parses "N", "N1,N2,…" or "ddimN" against a chain of {@code numTimesteps} steps. An empty spec keeps
     * every step. Bad specs throw an {@link IllegalArgumentException} whose message starts with {@code field}.
     */
    public static TimestepSpacing parse(String field, String spec, int numTimesteps) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException(field + ": the chain has no steps (" + numTimesteps + ")");
        }
        if (spec == null) {
            throw new IllegalArgumentException(field + ": missing");
        }
        String s = spec.trim();
        if (s.isEmpty()) {
            return new TimestepSpacing(spec, range(numTimesteps, 1));
        }
        if (s.startsWith(DDIM)) {
            int n = positive(field, spec, s.substring(DDIM.length()));
            for (int stride = 1; stride < numTimesteps; stride++) {
                if ((numTimesteps + stride - 1) / stride == n) { // len(range(0, T, stride))
                    return new TimestepSpacing(spec, range(numTimesteps, stride));
                }
            }
            throw new IllegalArgumentException(field + ": \"" + spec + "\": cannot take exactly " + n + " of "
                    + numTimesteps + " steps with an integer stride");
        }
        String[] parts = s.split(",", -1);
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            counts[i] = positive(field, spec, parts[i].trim());
        }
        if (counts.length > numTimesteps) {
            throw new IllegalArgumentException(field + ": \"" + spec + "\": " + counts.length
                    + " sections are more than the " + numTimesteps + " steps");
        }
        int sizePer = numTimesteps / counts.length;
        int extra = numTimesteps % counts.length;
        int start = 0;
        TreeSet<Long> taken = new TreeSet<>();
        for (int i = 0; i < counts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = counts[i];
            if (size < count) {
                throw new IllegalArgumentException(field + ": \"" + spec + "\": cannot divide a section of " + size
                        + " steps into " + count);
            }
            double stride = count <= 1 ? 1 : (double) (size - 1) / (count - 1);
            double cur = 0.0;
            for (int k = 0; k < count; k++) {
                taken.add(start + (long) Math.rint(cur)); // Python round: half to even
                cur += stride;
            }
            start += size;
        }
        return new TimestepSpacing(spec, taken.stream().mapToLong(Long::longValue).toArray());
    }

    private static int positive(String field, String spec, String number) {
        int n;
        try {
            n = Integer.parseInt(number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + ": \"" + spec
                    + "\" is not a step count: use N (e.g. 250), comma-separated counts (10,10,5) or ddimN (ddim50)");
        }
        if (n < 1) {
            throw new IllegalArgumentException(field + ": \"" + spec + "\": step counts must be positive, got " + n);
        }
        return n;
    }

    private static long[] range(int end, int stride) {
        long[] r = new long[(end + stride - 1) / stride];
        Arrays.setAll(r, i -> (long) i * stride);
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TimestepSpacing other && spec.equals(other.spec) && Arrays.equals(keptSteps, other.keptSteps);
    }

    @Override
    public int hashCode() {
        return 31 * spec.hashCode() + Arrays.hashCode(keptSteps);
    }

    @Override
    public String toString() {
        return "TimestepSpacing[" + spec + ": " + keptSteps.length + " steps]";
    }
}
