package dev.ditspark.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.UnaryOperator;

/**
 * A short-lived sub-manager for one piece of a forward pass, so its intermediates are freed when the piece returns
 * (docs/architecture.md, "Memory and fused kernels"). {@link #borrow} an input the caller still owns, {@link #take}
 * one it hands over, {@link #keep} the result. Never create a tensor over a Java buffer inside a scope that closes
 * before backward reads it; make scalars with {@code NDManager.full}.
 *
 * <pre>{@code
 * try (Scope s = Scope.under(x.getManager())) {
 *     s.borrow(c);
 *     h = s.keep(block.forward(s.take(h), c));
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private final NDManager parent;
    private final NDManager sub;

    private Scope(NDManager parent) {
        this.parent = parent;
        this.sub = parent.newSubManager();
    }

    /** Opens a scope whose kept results go to {@code parent}. */
    public static Scope under(NDManager parent) {
        return new Scope(parent);
    }

    /** The scope's own manager (for arrays created inside it). */
    public NDManager manager() {
        return sub;
    }

    /** Moves {@code a} into the scope until it closes, then back to the manager it came from; null passes. */
    public NDArray borrow(NDArray a) {
        if (a != null) {
            a.tempAttach(sub);
        }
        return a;
    }

    /** Moves {@code a} into the scope for good: it is freed when the scope closes; null passes. */
    public NDArray take(NDArray a) {
        if (a != null) {
            a.attach(sub);
        }
        return a;
    }

    /** Moves a result out of the scope to the parent manager and returns it; null passes. */
    public NDArray keep(NDArray a) {
        if (a != null) {
            a.attach(parent);
        }
        return a;
    }

    /**
     * {@code f(input)} in a scope under {@code input}'s manager: f's intermediates are freed when it returns and
     * its result lands on that manager. With {@code consume} the input is freed too (the caller hands it over);
     * otherwise it goes back to where it was.
     */
    public static NDArray apply(NDArray input, boolean consume, UnaryOperator<NDArray> f) {
        try (Scope s = under(input.getManager())) {
            if (consume) {
                s.take(input);
            } else {
                s.borrow(input);
            }
            return s.keep(f.apply(input));
        }
    }

    @Override
    public void close() {
        sub.close();
    }
}
