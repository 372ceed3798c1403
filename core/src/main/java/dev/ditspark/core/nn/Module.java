package dev.ditspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A piece of the model that owns named parameters and child pieces, so that the flattened dotted names
 * are exactly the reference state_dict keys ({@code blocks.3.attn.qkv.weight}).
 *
 * <p>Shapes are known at construction; values are created by {@link #initialize} or loaded from weights.
 * Forward passes are written so every intermediate attaches to the activation's manager, never to the
 * parameters' (libtorch results attach to the first operand's manager).
 */
public abstract class Module {
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    protected final Parameter parameter(String name, Init init, long... shape) {
        return register(new Parameter(name, new Shape(shape), init, true));
    }

    /**
     * A trainable parameter whose initial value the enclosing model decides ({@link #initializer}), as the DiT's
     * pieces are initialised by {@code DiT.initializer} (models.py's {@code initialize_weights}).
     */
    protected final Parameter parameter(String name, long... shape) {
        return register(new Parameter(name, new Shape(shape), null, true));
    }

    /** A state_dict entry that is never trained (the reference's requires_grad=False parameter). */
    protected final Parameter fixed(String name, float[] values, long... shape) {
        return register(new Parameter(name, new Shape(shape), Init.fixed(values), false));
    }

    private Parameter register(Parameter p) {
        if (params.putIfAbsent(p.name(), p) != null) {
            throw new IllegalStateException("duplicate parameter " + p.name());
        }
        return p;
    }

    protected final <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null) {
            throw new IllegalStateException("duplicate child " + name);
        }
        return module;
    }

    /**
     * How {@link #initialize} fills the parameter with full dotted name {@code key}: by default what the parameter
     * was declared with; a model overrides this to decide all its initialisation in one place.
     */
    protected Init initializer(String key, Parameter p) {
        return p.init();
    }

    /** All parameters with their full dotted names, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** Number of scalars in the state_dict (trainable and fixed). */
    public final long parameterCount() {
        return namedParameters().values().stream().mapToLong(Parameter::size).sum();
    }

    /** Resets every trainable parameter's accumulated gradient to zero. */
    public final void zeroGradients() {
        namedParameters().values().forEach(Parameter::zeroGradient);
    }

    /**
     * Creates every value on {@code manager} from {@link #initializer}, in state_dict order (so one seed gives one
     * set of weights).
     *
     * @throws IllegalStateException a parameter has no initialiser
     */
    public final void initialize(NDManager manager, RandomGenerator rng) {
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            Parameter p = e.getValue();
            long n = p.size();
            if (n > Integer.MAX_VALUE) {
                throw new IllegalStateException("parameter too large: " + e.getKey());
            }
            Init init = initializer(e.getKey(), p);
            if (init == null) {
                throw new IllegalStateException("parameter " + e.getKey() + " has no initialiser");
            }
            float[] data = new float[(int) n];
            init.fill(data, p.shape().getShape(), rng);
            NDArray value = manager.create(data, p.shape());
            p.set(value);
        }
    }
}
