package dev.ditspark.spark;

import java.io.Serializable;

/** What one training task reports to the driver. */
public record WorkerResult(int rank, int worldSize, long finalStep, double lastLoss, String backend, String device)
        implements Serializable {
}
