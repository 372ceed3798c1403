package dev.ditspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.ditspark.core.engine.NoGrad;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Strict in-place restore of named training-state tensors (optimizer moments, EMA weights) from a checkpoint. */
final class TensorState {
    private TensorState() {
    }

    private static final NDIndex ALL = new NDIndex("...");

    /**
     * Copies every {@code sources} tensor into the {@code targets} tensor of the same key, in place (same
     * tensor, same device; a source on another device is copied across). Missing, unexpected, mis-shaped and
     * mis-typed keys are all checked first and reported together, naming each key; nothing changes on failure.
     */
    static void copyInto(String what, Map<String, NDArray> targets, Map<String, NDArray> sources) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : targets.entrySet()) {
            NDArray src = sources.get(e.getKey());
            NDArray dst = e.getValue();
            if (src == null) {
                problems.add("missing " + e.getKey());
            } else if (!src.getShape().equals(dst.getShape())) {
                problems.add(e.getKey() + ": shape " + src.getShape() + " vs expected " + dst.getShape());
            } else if (src.getDataType() != dst.getDataType()) {
                problems.add(e.getKey() + ": dtype " + src.getDataType() + " vs expected " + dst.getDataType());
            }
        }
        for (String key : new TreeSet<>(sources.keySet())) {
            if (!targets.containsKey(key)) {
                problems.add("unexpected " + key);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(what + " does not match: " + String.join("; ", problems));
        }
        try (NoGrad off = NoGrad.enter()) { // targets may be parameters (EMA into a sampling model)
            targets.forEach((key, dst) -> dst.set(ALL, sources.get(key)));
        }
    }
}
