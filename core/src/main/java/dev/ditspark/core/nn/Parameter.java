package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.engine.Gradients;

/**
 * One named tensor of the model's state_dict. Trainable parameters take gradients; the fixed
 * {@code pos_embed} is in the state_dict (and the parameter count) but never trained.
 */
public final class Parameter {
    private final String name;
    private final Shape shape;
    private final Init init;
    private final boolean trainable;
    private NDArray value;
    /**
     * The array handed to {@link #set}, kept open because it may own the storage (a Java direct buffer) that
     * {@link #value}, a leaf made from it, shares; it never takes part in autograd. Same as value when not trainable.
     */
    private NDArray storage;

    Parameter(String name, Shape shape, Init init, boolean trainable) {
        this.name = name;
        this.shape = shape;
        this.init = init;
        this.trainable = trainable;
    }

    /** The local name (e.g. {@code weight}); {@link Module#namedParameters()} gives the full dotted name. */
    public String name() {
        return name;
    }

    public Shape shape() {
        return shape;
    }

    public long size() {
        return shape.size();
    }

    /** The initialiser it was declared with, or null when its model decides ({@link Module#initializer}). */
    public Init init() {
        return init;
    }

    public boolean trainable() {
        return trainable;
    }

    /** The current value; throws if the model has not been initialised or loaded. */
    public NDArray value() {
        if (value == null) {
            throw new IllegalStateException("parameter '" + name + "' has no value: initialise or load the model first");
        }
        return value;
    }

    public boolean hasValue() {
        return value != null;
    }

    /**
     * The accumulated gradient, or null before the first backward. libtorch accumulates into it across
     * backward passes (gradient accumulation over micro-batches); {@link #zeroGradient} resets it. The
     * caller closes the returned wrapper (closing it does not free the gradient itself).
     */
    public NDArray gradient() {
        return value().getGradient();
    }

    /**
     * Drops the accumulated gradient (PyTorch's {@code zero_grad(set_to_none=True)}, its default), so no gradient
     * memory is held through the next forward pass; a NaN left by a bad step goes with it. The value is replaced by a
     * leaf sharing its storage ({@link Gradients#release}); callers read {@link #value()} afresh, never a cached one.
     */
    public void zeroGradient() {
        if (value != null && trainable) {
            NDArray fresh = Gradients.release(value);
            if (fresh != null) {
                value.close();
                value = fresh;
            }
        }
    }

    /**
     * Replaces the value (closing the previous one); the shape must match. The parameter takes {@code newValue}
     * over: a trainable one trains a leaf that shares its storage (see {@link #zeroGradient}), so in-place writes
     * to either are seen by both.
     */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(shape)) {
            throw new IllegalArgumentException("parameter '" + name + "': shape " + newValue.getShape()
                    + " does not match the model's " + shape);
        }
        if (newValue == storage || newValue == value) {
            return;
        }
        if (value != null && value != storage) {
            value.close();
        }
        if (storage != null) {
            storage.close();
        }
        storage = newValue;
        if (trainable) {
            value = Gradients.leaf(newValue);
        } else {
            newValue.setRequiresGradient(false);
            value = newValue;
        }
    }
}
