package dev.ditspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.FusedOps;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The exponential moving average of a model's weights that samples and evaluation use (docs/recipe.md): it
 * starts equal to the weights and after every optimizer step becomes {@code decay·ema + (1 − decay)·θ}.
 *
 * <p>Like the reference's {@code deepcopy(model)} it holds a copy of every state_dict entry, the fixed
 * {@code pos_embed} included, and {@link #update()} runs over all of them as the reference's
 * {@code update_ema} runs over {@code named_parameters()}. The copies never take gradients. They live on a
 * sub-manager of the model's manager, on the model's device; call {@link #update(long)} outside a
 * {@code GradientTape}. Not thread-safe.
 *
 * <p>With warm-up on (a departure from the paper, {@code train.ema_warmup}; off by default) the decay of the
 * update after optimizer step t (0-based) is min(decay, (1 + t)/(10 + t)), the schedule of TensorFlow's
 * {@code ExponentialMovingAverage(num_updates=t)}: 0.1 at t = 0, 0.5 at t = 8, 0.9 at t = 80, 0.99 at t = 890,
 * reaching 0.999 at t = 8,990. A run shorter than the horizon 1/(1 − decay) then averages roughly its last
 * tenth instead of staying close to the initial weights.
 */
public final class Ema implements AutoCloseable {
    /** docs/recipe.md, "Optimizer and EMA": ema = 0.9999·ema + 0.0001·θ. */
    public static final double PAPER_DECAY = 0.9999;

    private final Module model;
    private final double decay;
    private final boolean warmup;
    private final NDManager manager;
    private final Map<String, NDArray> weights;

    /** An EMA of {@code model} with the paper's decay 0.9999. */
    public Ema(Module model) {
        this(model, PAPER_DECAY);
    }

    /** An EMA of {@code model}, equal to its current weights, with the constant {@code decay} in [0, 1]. */
    public Ema(Module model, double decay) {
        this(model, decay, false);
    }

    /**
     * An EMA of {@code model}, equal to its current weights, with {@code decay} in [0, 1], ramped up by
     * {@link #decayAt} when {@code warmup}. Throws IllegalArgumentException for a decay outside [0, 1].
     */
    public Ema(Module model, double decay, boolean warmup) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        }
        this.model = model;
        this.decay = decay;
        this.warmup = warmup;
        Map<String, Parameter> params = model.namedParameters();
        if (params.isEmpty()) {
            throw new IllegalArgumentException("EMA: the model has no parameters");
        }
        NDArray first = params.values().iterator().next().value();
        manager = first.getManager().newSubManager(first.getDevice());
        Map<String, NDArray> copies = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            try (NDArray detached = p.value().stopGradient()) { // a copy without autograd history
                NDArray copy = detached.duplicate();
                copy.attach(manager);
                copies.put(name, copy);
            }
        });
        weights = Collections.unmodifiableMap(copies);
    }

    /** The configured (final) decay. */
    public double decay() {
        return decay;
    }

    /** Whether the decay warms up ({@link #decayAt}). */
    public boolean warmup() {
        return warmup;
    }

    /**
     * The decay of the update after optimizer step {@code t} (0-based, t ≥ 0): the configured decay, or with
     * warm-up min(decay, (1 + t)/(10 + t)).
     */
    public double decayAt(long t) {
        if (t < 0) {
            throw new IllegalArgumentException("EMA: step must not be negative, got " + t);
        }
        return warmup ? Math.min(decay, (1.0 + t) / (10.0 + t)) : decay;
    }

    /**
     * ema ← decay·ema + (1 − decay)·θ in place for every entry with the constant decay; call once after each
     * optimizer step. Throws IllegalStateException when warm-up is on ({@link #update(long)} needs the step).
     */
    public void update() {
        if (warmup) {
            throw new IllegalStateException("EMA with warm-up: update(step) needs the optimizer step");
        }
        apply(decay);
    }

    /**
     * ema ← d·ema + (1 − d)·θ in place for every entry, d = {@link #decayAt}(t); call once after optimizer
     * step {@code t} (0-based), so a resumed run continues the same schedule.
     */
    public void update(long t) {
        apply(decayAt(t));
    }

    private void apply(double decay) {
        Map<String, Parameter> params = model.namedParameters();
        if (FusedOps.available()) {
            // Two foreach ops over all tensors, the same mul_/add_ as below (bit-identical results).
            List<NDArray> thetas = new ArrayList<>(weights.size());
            weights.keySet().forEach(name -> thetas.add(params.get(name).value()));
            FusedOps.ema(new ArrayList<>(weights.values()), thetas, decay);
            return;
        }
        try (NoGrad off = NoGrad.enter(); NDManager scratch = manager.newSubManager()) {
            // 0-d scalars filled by libtorch on the parameters' device: no host→device copy per scalar on a GPU.
            ai.djl.ndarray.types.Shape scalar = new ai.djl.ndarray.types.Shape();
            ai.djl.ndarray.types.DataType f32 = ai.djl.ndarray.types.DataType.FLOAT32;
            NDArray keep = scratch.full(scalar, (float) decay, f32);
            NDArray take = scratch.full(scalar, (float) (1 - decay), f32);
            List<NDArray> thetas = new ArrayList<>(weights.size());
            weights.keySet().forEach(name -> thetas.add(params.get(name).value()));
            int i = 0;
            for (NDArray ema : weights.values()) {
                // Scalar first: the temporary attaches to the scratch manager and is closed right away.
                try (NDArray scaled = take.mul(thetas.get(i++))) {
                    ema.muli(keep).addi(scaled); // ema.mul_(decay).add_(param, alpha=1 - decay)
                }
            }
        }
    }

    /**
     * The EMA tensors by state_dict name, for checkpoints and export. These are the live tensors: read them
     * before the next {@link #update()}, and do not close them.
     */
    public Map<String, NDArray> weights() {
        return weights;
    }

    /**
     * Writes the EMA weights into {@code target}'s existing parameter tensors in place (a model for sampling,
     * built with the same config and initialised or loaded). Names and shapes must match.
     */
    public void copyInto(Module target) {
        Map<String, NDArray> targets = new LinkedHashMap<>();
        target.namedParameters().forEach((name, p) -> targets.put(name, p.value()));
        TensorState.copyInto("EMA target model", targets, weights);
    }

    /** Restores EMA weights from a checkpoint, in place; keys, shapes and dtypes must match (errors name them). */
    public void load(Map<String, NDArray> checkpoint) {
        TensorState.copyInto("EMA checkpoint", weights, checkpoint);
    }

    /** Frees the EMA copies. */
    @Override
    public void close() {
        manager.close();
    }
}
