package dev.ditspark.core.model;

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
     * Sets the accumulated gradient to zero in place (libtorch's {@code grad().zero_()}, so a NaN left by a
     * bad step is cleared too). Not DJL's {@code set(index, 0f)}: that leaves a scalar on the parameter's
     * manager on every call.
     */
    public void zeroGradient() {
        if (value != null && trainable) {
            Gradients.zero(value);
        }
    }

    /** Replaces the value (closing the previous one); the shape must match. */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(shape)) {
            throw new IllegalArgumentException("parameter '" + name + "': shape " + newValue.getShape()
                    + " does not match the model's " + shape);
        }
        if (value != null && value != newValue) {
            value.close();
        }
        value = newValue;
        value.setRequiresGradient(trainable);
    }
}
