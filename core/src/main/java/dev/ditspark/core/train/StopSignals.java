package dev.ditspark.core.train;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM (Kubernetes eviction, spot preemption, {@code kill}), SIGINT (Ctrl-C) and SIGPWR (what Spark's
 * decommissioning sends an executor, {@code spark.decommission.signal}) into a {@link StopRequest} while a
 * {@link Trainer} runs in this JVM: it ends after the step in flight with a checkpoint. A second SIGTERM/SIGINT,
 * or one while no trainer runs, ends the JVM as before (exit 128 + signal, shutdown hooks run). SIGPWR is also
 * passed on to the handler it replaced (Spark's, which stops the executor taking new tasks).
 */
public final class StopSignals {
    private static final Logger LOG = LogManager.getLogger(StopSignals.class);
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private StopSignals() {
    }

    /** Installs the handlers once per JVM; signals this OS does not have are skipped. */
    public static void install() {
        if (!INSTALLED.compareAndSet(false, true)) {
            return;
        }
        for (String name : List.of("TERM", "INT", "PWR")) {
            try {
                Signal signal = new Signal(name);
                SignalHandler[] previous = new SignalHandler[1];
                previous[0] = Signal.handle(signal, s -> handle(s, previous[0]));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                LOG.debug("signal {} not handled here: {}", name, e.getMessage());
            }
        }
    }

    private static void handle(Signal s, SignalHandler previous) {
        boolean pwr = s.getName().equals("PWR");
        if (StopRequest.activeRuns() > 0 && (pwr || StopRequest.reason() == null)) {
            StopRequest.request("SIG" + s.getName());
            LOG.warn("SIG{} received: training stops after the step in flight and writes a checkpoint{}", s.getName(),
                    pwr ? "" : " (send it again to quit at once)");
            if (pwr) {
                passOn(s, previous, false);
            }
            return;
        }
        passOn(s, previous, !pwr);
    }

    private static void passOn(Signal s, SignalHandler previous, boolean exitByDefault) {
        if (previous != null && previous != SignalHandler.SIG_DFL && previous != SignalHandler.SIG_IGN) {
            previous.handle(s);
        } else if (exitByDefault && previous != SignalHandler.SIG_IGN) {
            System.exit(128 + s.getNumber()); // what the JVM's own handler does
        }
    }
}
