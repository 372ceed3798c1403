package dev.ditspark.core.train;

import java.util.SplittableRandom;

/**
 * Every random draw of a training step is a pure function of (run seed, step, the sample's global index):
 * the flip, the label drop, the timestep, the posterior sample ε and the diffusion noise.
 *
 * <p>Two properties follow. Exact resume: the step number is the whole RNG state, so a resumed run draws what
 * the uninterrupted one would have. Data-parallel equivalence: a sample gets the same draws whether it is one
 * of 2b on one worker or one of b on each of two, so W workers × b and 1 worker × W·b compute the same
 * gradient up to summation order. (The reference seeds torch per worker with global_seed·world_size + rank;
 * we keep that formula for each worker's data shuffle, see {@link #workerSeed}.)
 */
public final class SampleRandomness {
    private SampleRandomness() {
    }

    /** The reference's per-worker seed: global_seed·world_size + rank. */
    public static long workerSeed(long globalSeed, int worldSize, int rank) {
        return globalSeed * worldSize + rank;
    }

    /** The generator for one sample at one step. */
    public static SplittableRandom forSample(long globalSeed, long step, long globalIndex) {
        return new SplittableRandom(mix(mix(mix(0x9E3779B97F4A7C15L ^ globalSeed) + step) + globalIndex));
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
