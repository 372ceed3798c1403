package dev.ditspark.core.train;

import dev.ditspark.core.config.TrainSpec;

/**
 * The learning rate of each optimizer step ({@code train.lr_schedule}, {@code train.lr_warmup}).
 *
 * <ul>
 *   <li>{@code constant} (the default, the paper's: AdamW at a fixed 1e-4, DiT §3 "Training"): {@code lr} at every
 *       step;</li>
 *   <li>{@code cosine}: {@code lr · ½(1 + cos(π · p))} with p = t / max_steps the fraction of the run done, so the
 *       rate falls from {@code lr} to 0 at the last step (Loshchilov &amp; Hutter, SGDR, 2017, without restarts).
 *       A departure from the paper for short runs (the demo), whose final weights otherwise still move at the
 *       full rate when the run stops.</li>
 * </ul>
 * With {@code lr_warmup} W &gt; 0 the first W steps ramp linearly, {@code lr · (t + 1)/W}, before the schedule
 * (counted from step 0, so the cosine part is unchanged by the warm-up).
 *
 * <p>The rate depends only on the optimizer step t (0-based, the step being taken) and the configuration, so a
 * resumed run continues the same schedule; changing {@code max_steps} on resume changes a cosine schedule's
 * remaining shape.
 */
public final class LrSchedule {
    private final double lr;
    private final String kind;
    private final long warmup;
    private final long maxSteps;

    /**
     * @param lr the peak rate (&gt; 0)
     * @param kind {@link TrainSpec#CONSTANT} or {@link TrainSpec#COSINE}
     * @param warmup linear warm-up steps (≥ 0)
     * @param maxSteps the run's last step count (&gt; 0)
     * @throws IllegalArgumentException for an unknown kind or values out of range
     */
    public LrSchedule(double lr, String kind, long warmup, long maxSteps) {
        if (!(lr > 0) || warmup < 0 || maxSteps <= 0) {
            throw new IllegalArgumentException("lr schedule: lr " + lr + " warmup " + warmup + " max_steps " + maxSteps);
        }
        if (!TrainSpec.CONSTANT.equals(kind) && !TrainSpec.COSINE.equals(kind)) {
            throw new IllegalArgumentException("lr schedule: constant or cosine, got " + kind);
        }
        this.lr = lr;
        this.kind = kind;
        this.warmup = warmup;
        this.maxSteps = maxSteps;
    }

    /** The schedule a run's {@code train:} section asks for. */
    public static LrSchedule of(TrainSpec spec) {
        return new LrSchedule(spec.lr(), spec.lrSchedule(), spec.lrWarmup(), spec.maxSteps());
    }

    /** The rate of optimizer step {@code t} (0-based; t ≥ 0). */
    public double lrAt(long t) {
        if (t < 0) {
            throw new IllegalArgumentException("lr schedule: step must not be negative, got " + t);
        }
        double rate = lr;
        if (TrainSpec.COSINE.equals(kind)) {
            double p = Math.min(1.0, (double) t / maxSteps);
            rate = lr * 0.5 * (1 + Math.cos(Math.PI * p));
        }
        if (t < warmup) {
            rate *= (t + 1.0) / warmup;
        }
        return rate;
    }
}
