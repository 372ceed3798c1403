package dev.ditspark.core.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.FusedOps;
import dev.ditspark.core.engine.Gradients;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * torch.optim.AdamW (amsgrad and maximize off) over a model's trainable parameters, with torch's
 * single-tensor update order, so trajectories match PyTorch to float rounding (docs/recipe.md).
 *
 * <p>When the fused TorchScript ops are loaded ({@link FusedOps}), a step is one {@code torch._fused_adamw_}
 * call over all parameters (torch.optim.AdamW(fused=True); it agrees with the single-tensor order within ~1e-7
 * relative, AdamWTest). Otherwise all arithmetic stays on the parameters' device as tensor ops; scalars are 0-d float32 tensors on a
 * per-step manager (never Java {@code Number} operands, whose DJL scalars are freed early), and every
 * temporary is closed per parameter, so a step leaves nothing behind and needs at most three parameter-sized
 * temporaries at a time. Call {@link #step()} outside a {@code GradientTape}. Not thread-safe.
 */
public final class AdamW implements AutoCloseable {
    private static final String EXP_AVG = "exp_avg.";
    private static final String EXP_AVG_SQ = "exp_avg_sq.";

    private final AdamWConfig config;
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final NDManager stateManager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private final Map<String, NDArray> state;
    private long step;

    /**
     * Optimises every trainable parameter of {@code model} (the fixed {@code pos_embed} is left out). The
     * model must hold its values, all on one device; the moments are created there as zeros (torch creates
     * them lazily at the first step, with the same values).
     */
    public AdamW(Module model, AdamWConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        model.namedParameters().forEach((name, p) -> {
            if (p.trainable()) {
                params.put(name, p);
            }
        });
        if (params.isEmpty()) {
            throw new IllegalArgumentException("AdamW: the model has no trainable parameters");
        }
        NDArray first = params.values().iterator().next().value();
        Device device = first.getDevice();
        params.forEach((name, p) -> {
            if (!p.value().getDevice().equals(device)) {
                throw new IllegalArgumentException("AdamW: parameter " + name + " is on " + p.value().getDevice()
                        + ", the others on " + device);
            }
        });
        stateManager = first.getManager().newSubManager(device);
        Map<String, NDArray> all = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            NDArray m = stateManager.zeros(p.shape(), p.value().getDataType());
            NDArray v = stateManager.zeros(p.shape(), p.value().getDataType());
            expAvg.put(name, m);
            expAvgSq.put(name, v);
            all.put(EXP_AVG + name, m);
            all.put(EXP_AVG_SQ + name, v);
        });
        state = Collections.unmodifiableMap(all);
    }

    public AdamWConfig config() {
        return config;
    }

    /** Optimizer steps taken so far (torch's per-parameter {@code step}, the same for all parameters). */
    public long stepCount() {
        return step;
    }

    /** Names of the optimised parameters, in state_dict order. */
    public List<String> parameterNames() {
        return List.copyOf(params.keySet());
    }

    /**
     * One AdamW update from each parameter's accumulated gradient. Every gradient is looked up before any
     * parameter changes, so a missing one ({@link IllegalStateException} naming it) leaves the model and
     * state untouched. The gradients are left as they are (zero them before the next accumulation).
     */
    public void step() {
        step(config.lr());
    }

    /**
     * {@link #step()} at learning rate {@code lr} instead of the configured one (a schedule's rate for this step,
     * as torch's LR schedulers set {@code param_group['lr']}; weight decay scales with it as in torch).
     */
    public void step(double lr) {
        long t = step + 1;
        // torch computes these in double and hands them to float32 kernels as scalars.
        double biasCorrection1 = 1 - Math.pow(config.beta1(), t);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(config.beta2(), t));
        double stepSize = lr / biasCorrection1;
        boolean decay = config.weightDecay() != 0; // θ·1 is exact, so skipping it when wd = 0 changes nothing
        try (NoGrad off = NoGrad.enter(); NDManager scratch = stateManager.newSubManager()) { // as torch.optim's step
            List<NDArray> grads = gradients(scratch);
            if (FusedOps.available()) {
                // One pass per parameter (torch.optim.AdamW(fused=True)); equal to the loop below within 1e-7.
                List<NDArray> thetas = new ArrayList<>(params.size());
                params.values().forEach(p -> thetas.add(p.value()));
                NDArray count = scratch.full(new ai.djl.ndarray.types.Shape(), (float) t,
                        ai.djl.ndarray.types.DataType.FLOAT32);
                FusedOps.adamw(thetas, grads, new ArrayList<>(expAvg.values()), new ArrayList<>(expAvgSq.values()),
                        count, lr, config.beta1(), config.beta2(), config.weightDecay(), config.eps());
                step = t;
                return;
            }
            // 0-d scalars filled by libtorch on the parameters' device: no host→device copy per scalar on a GPU.
            ai.djl.ndarray.types.Shape scalar = new ai.djl.ndarray.types.Shape();
            ai.djl.ndarray.types.DataType f32 = ai.djl.ndarray.types.DataType.FLOAT32;
            NDArray keep = scratch.full(scalar, (float) (1 - lr * config.weightDecay()), f32);
            NDArray beta1 = scratch.full(scalar, (float) config.beta1(), f32);
            NDArray oneMinusBeta1 = scratch.full(scalar, (float) (1 - config.beta1()), f32);
            NDArray beta2 = scratch.full(scalar, (float) config.beta2(), f32);
            NDArray oneMinusBeta2 = scratch.full(scalar, (float) (1 - config.beta2()), f32);
            NDArray eps = scratch.full(scalar, (float) config.eps(), f32);
            NDArray bc2Sqrt = scratch.full(scalar, (float) biasCorrection2Sqrt, f32);
            NDArray negStepSize = scratch.full(scalar, (float) -stepSize, f32);
            int i = 0;
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                NDArray theta = e.getValue().value();
                NDArray g = grads.get(i++);
                NDArray m = expAvg.get(e.getKey());
                NDArray v = expAvgSq.get(e.getKey());
                if (decay) {
                    theta.muli(keep); // param.mul_(1 - lr * weight_decay), decoupled, before the moments
                }
                // Scalar first: the temporary attaches to the scratch manager; each is closed right away.
                try (NDArray scaled = oneMinusBeta1.mul(g)) {
                    m.muli(beta1).addi(scaled); // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                }
                try (NDArray scaledSq = oneMinusBeta2.mul(g).muli(g)) {
                    v.muli(beta2).addi(scaledSq); // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                }
                try (NDArray denom = v.sqrt(); NDArray update = negStepSize.mul(m)) {
                    denom.divi(bc2Sqrt).addi(eps); // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                    theta.addi(update.divi(denom)); // param.addcdiv_(exp_avg, denom, value=-step_size)
                }
            }
        }
        step = t;
    }

    /** Resets every optimised parameter's accumulated gradient to zero (see {@link Parameter#zeroGradient}). */
    public void zeroGradients() {
        params.values().forEach(Parameter::zeroGradient);
    }

    /**
     * Whether every accumulated gradient is finite (no NaN or ±Inf), to stop before a bad step: one read-back of
     * {@link #gradientSum}, and only when that is not finite the exact check.
     */
    public boolean allGradientsFinite() {
        try (NDManager scratch = stateManager.newSubManager()) {
            return Float.isFinite(gradientSum(scratch).getFloat()) || allGradientsFiniteExact();
        }
    }

    /**
     * The sum of every element of every accumulated gradient, a 0-d float32 tensor on {@code manager}'s device,
     * computed there (one reduction per parameter and one over those) and not read back, so a caller can fetch it
     * with other values in one device sync. It is finite whenever every gradient is (a NaN, or infinities of
     * either sign, make it NaN or infinite), except when the finite sums pass float32's range (~3.4e38); a
     * non-finite value is therefore confirmed with {@link #allGradientsFiniteExact}.
     */
    public NDArray gradientSum(NDManager manager) {
        try (NoGrad off = NoGrad.enter(); NDManager scratch = stateManager.newSubManager()) {
            NDList sums = new NDList();
            for (NDArray g : gradients(scratch)) {
                sums.add(g.sum());
            }
            NDArray total = NDArrays.stack(sums).sum();
            total.attach(manager);
            return total;
        }
    }

    /**
     * The exact check: every gradient's max and min (torch's propagate NaN) are finite. Two reductions per
     * parameter and one read-back; used to confirm a non-finite {@link #gradientSum}.
     */
    public boolean allGradientsFiniteExact() {
        try (NoGrad off = NoGrad.enter(); NDManager scratch = stateManager.newSubManager()) {
            NDList extremes = new NDList();
            for (NDArray g : gradients(scratch)) {
                extremes.add(g.max());
                extremes.add(g.min());
            }
            return Float.isFinite(NDArrays.stack(extremes).abs().max().getFloat());
        }
    }

    /**
     * The optimizer state for a checkpoint: {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} per
     * parameter, in state_dict order, plus {@link #stepCount()}. These are the live tensors: read them (write
     * the checkpoint) before the next step, and do not close them.
     */
    public Map<String, NDArray> state() {
        return state;
    }

    /**
     * Restores a checkpoint written from {@link #state()} and {@link #stepCount()}: the moments are copied in
     * place, so the next step is bit-identical to the uninterrupted run's. The key set must match exactly and
     * every tensor must have the parameter's shape and dtype; the error names each offending key.
     */
    public void load(Map<String, NDArray> checkpoint, long stepCount) {
        if (stepCount < 0) {
            throw new IllegalArgumentException("AdamW step count must be >= 0, got " + stepCount);
        }
        TensorState.copyInto("AdamW state", state, checkpoint);
        step = stepCount;
    }

    /** Frees the moments. */
    @Override
    public void close() {
        stateManager.close();
    }

    /** Each parameter's accumulated gradient as a wrapper on {@code scratch}, or the named missing one. */
    private List<NDArray> gradients(NDManager scratch) {
        List<NDArray> grads = new ArrayList<>(params.size());
        params.forEach((name, p) -> {
            // DJL's getGradient() would return fresh zeros for a missing gradient; ask libtorch directly.
            NDArray g = Gradients.of(p.value());
            if (g == null) {
                throw new IllegalStateException("AdamW: parameter " + name
                        + " has no gradient (run a backward pass that reaches it before step())");
            }
            g.attach(scratch); // closing the wrapper leaves the gradient itself alone
            grads.add(g);
        });
        return grads;
    }
}
