package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test support: given draws handed out in order (parity with recorded reference noise); running out is an error. */
public final class FixedNoise implements NoiseSource {
    private final List<float[]> draws;
    private int next;

    public FixedNoise(List<float[]> draws) {
        this.draws = new ArrayList<>();
        for (float[] d : draws) {
            this.draws.add(d.clone());
        }
    }

    /** {@code count} equal draws laid end to end in {@code stacked} (a (count, ...) tensor's values). */
    public static FixedNoise split(float[] stacked, int count) {
        if (count <= 0 || stacked.length % count != 0) {
            throw new IllegalArgumentException(stacked.length + " values do not split into " + count + " draws");
        }
        int size = stacked.length / count;
        List<float[]> list = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            list.add(Arrays.copyOfRange(stacked, k * size, (k + 1) * size));
        }
        return new FixedNoise(list);
    }

    /** Draws not handed out yet. */
    public int remaining() {
        return draws.size() - next;
    }

    @Override
    public NDArray next(NDManager manager, Shape shape) {
        if (next >= draws.size()) {
            throw new IllegalStateException("all " + draws.size() + " fixed noise draws are used");
        }
        float[] d = draws.get(next);
        if (d.length != shape.size()) {
            throw new IllegalArgumentException("fixed noise draw " + next + " has " + d.length + " values, "
                    + shape + " needs " + shape.size());
        }
        next++;
        return manager.create(d, shape);
    }
}
