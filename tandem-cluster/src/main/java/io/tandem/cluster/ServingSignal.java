package io.tandem.cluster;

import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/**
 * Whether a clustered node serves, for its coordinator: set synchronously (self-fencing must not
 * wait for anyone), told to the {@link ServingListener}s afterwards on the coordinator's events
 * executor, in the order of the changes.
 */
final class ServingSignal {

    private static final System.Logger LOG = System.getLogger(ServingSignal.class.getName());

    private final String nodeId;
    private final Executor events;
    private final CopyOnWriteArrayList<ServingListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean serving;

    ServingSignal(String nodeId, Executor events) {
        this.nodeId = nodeId;
        this.events = events;
    }

    boolean serving() {
        return serving;
    }

    void add(ServingListener listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    void remove(ServingListener listener) {
        listeners.remove(listener);
    }

    /** Serves or stops; a change is logged and told to the listeners. */
    synchronized void set(boolean value) {
        if (serving == value) {
            return;
        }
        serving = value;
        LOG.log(value ? System.Logger.Level.INFO : System.Logger.Level.WARNING, "node {0} {1} clustered LUs",
                nodeId, value ? "serves" : "stops serving");
        tell(value);
    }

    /** Stops serving as the coordinator closes: told to the listeners, not logged as a fault. */
    synchronized void close() {
        if (serving) {
            serving = false;
            tell(false);
        }
    }

    private void tell(boolean value) {
        events.execute(() -> listeners.forEach(l -> {
            try {
                l.servingChanged(value);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "serving listener failed", e);
            }
        }));
    }
}
