package dev.ditspark.core.train;

/** Hooks for progress display and tests; called on the training thread, on every rank. */
public interface TrainingListener {
    TrainingListener NONE = new TrainingListener() { };

    /** Before the first step: where the run starts (0, or the resumed step) and where it stops. */
    default void onStart(long firstStep, long maxSteps) {
    }

    default void onStep(StepMetrics metrics) {
    }

    default void onCheckpoint(long step, String uri) {
    }

    /** Every train.log_every steps, on rank 0 only: the line it adds to metrics.jsonl ({@link MetricsHistory}). */
    default void onLog(MetricsRecord record) {
    }

    /** Passes every hook to {@code inner}; a subclass overrides the hooks it adds to (and calls super). */
    class Forwarding implements TrainingListener {
        private final TrainingListener inner;

        public Forwarding(TrainingListener inner) {
            this.inner = inner;
        }

        @Override
        public void onStart(long firstStep, long maxSteps) {
            inner.onStart(firstStep, maxSteps);
        }

        @Override
        public void onStep(StepMetrics metrics) {
            inner.onStep(metrics);
        }

        @Override
        public void onCheckpoint(long step, String uri) {
            inner.onCheckpoint(step, uri);
        }

        @Override
        public void onLog(MetricsRecord record) {
            inner.onLog(record);
        }
    }
}
