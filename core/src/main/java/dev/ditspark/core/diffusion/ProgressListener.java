package dev.ditspark.core.diffusion;

/** Told after each sampling step; {@code done} counts from 1 to {@code total}. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total, timestep) -> { };

    /** @param timestep the original step the model was just called with */
    void onStep(int done, int total, long timestep);
}
