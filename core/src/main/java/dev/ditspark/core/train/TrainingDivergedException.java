package dev.ditspark.core.train;

/** The loss or a gradient became NaN or infinite: the run stops at that step instead of training on garbage. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The step whose loss or gradients were not finite (nothing of it was applied). */
    public long step() {
        return step;
    }
}
