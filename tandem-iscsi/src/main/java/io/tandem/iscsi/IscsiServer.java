package io.tandem.iscsi;

import io.tandem.scsi.ScsiTarget;
import io.tandem.scsi.TargetPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Listens on the target's portals and runs one virtual thread per connection. Holds the session
 * table used for session reinstatement and TSIH allocation.
 */
public final class IscsiServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(IscsiServer.class.getName());

    private final IscsiTargetConfig config;
    private final ScsiTarget scsiTarget;
    private final TargetPort targetPort;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final List<InetSocketAddress> boundPortals = new ArrayList<>();
    private final Set<IscsiConnection> connections = ConcurrentHashMap.newKeySet();
    private final Map<IscsiSession.SessionKey, IscsiSession> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextTsih = new AtomicInteger(1);
    private final Consumer<String> events;
    /** What SendTargets lists; by default this server's own bound portals. */
    private volatile Supplier<List<AdvertisedPortal>> advertised = this::ownPortals;
    private volatile boolean closing;
    private final Runnable coldResetListener = () -> coldReset(null);
    /** Releases of ended sessions' nexuses still in progress, by initiator port (each session's {@code releaseDone}). */
    private final Map<IscsiSession.SessionKey, CompletableFuture<Void>> releasing = new ConcurrentHashMap<>();
    private static final long RELEASE_WAIT_SECONDS = 10;

    /** @param events receives one line per login/logout, for the operator's log */
    public IscsiServer(IscsiTargetConfig config, ScsiTarget scsiTarget, Consumer<String> events) {
        this.config = config;
        this.scsiTarget = scsiTarget;
        this.events = events;
        this.targetPort = new TargetPort(config.targetName(), config.portalGroupTag(),
                config.relativeTargetPortId(), config.targetPortGroup());
    }

    /** Binds every portal and starts accepting. */
    public void start() throws IOException {
        // A cold reset through another node of the cluster ends this node's sessions too.
        scsiTarget.addColdResetListener(coldResetListener);
        for (InetSocketAddress portal : config.portals()) {
            ServerSocketChannel listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            try {
                listener.bind(portal, 256);
            } catch (IOException e) {
                listener.close();
                close();
                throw new IOException("cannot listen on " + portal.getHostString() + ":" + portal.getPort()
                        + ": " + e.getMessage(), e);
            }
            listeners.add(listener);
            boundPortals.add((InetSocketAddress) listener.getLocalAddress());
            Thread.ofVirtual().name("iscsi-accept-" + portal).start(() -> acceptLoop(listener));
        }
    }

    /** The addresses actually bound (with the real port where 0 was asked for). */
    public List<InetSocketAddress> portals() {
        return List.copyOf(boundPortals);
    }

    /** This server's bound portals with its portal group tag. */
    public List<AdvertisedPortal> ownPortals() {
        List<AdvertisedPortal> own = new ArrayList<>();
        for (InetSocketAddress p : boundPortals) {
            own.add(new AdvertisedPortal(p.getAddress().getHostAddress(), p.getPort(), config.portalGroupTag()));
        }
        return own;
    }

    /**
     * Makes SendTargets list what {@code portals} supplies at the time of each request (a cluster:
     * every live node's portals, each with its node's portal group tag). Read per request, never
     * cached, so a node joining or leaving shows in the next discovery.
     */
    public void advertise(Supplier<List<AdvertisedPortal>> portals) {
        this.advertised = java.util.Objects.requireNonNull(portals);
    }

    List<AdvertisedPortal> advertisedPortals() {
        return advertised.get();
    }

    public IscsiTargetConfig config() {
        return config;
    }

    ScsiTarget scsiTarget() {
        return scsiTarget;
    }

    TargetPort targetPort() {
        return targetPort;
    }

    void event(String line) {
        events.accept(line);
    }

    private void acceptLoop(ServerSocketChannel listener) {
        while (!closing) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                if (!closing) {
                    LOG.log(Level.WARNING, "accept failed", e);
                }
                return;
            }
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            } catch (IOException e) {
                LOG.log(Level.FINE, "socket options", e);
            }
            IscsiConnection connection = new IscsiConnection(this, channel);
            connections.add(connection);
            Thread.ofVirtual().name("iscsi-conn-" + channel.socket().getRemoteSocketAddress()).start(() -> {
                try {
                    connection.run();
                } finally {
                    connections.remove(connection);
                }
            });
        }
    }

    /**
     * Registers a new session. An existing session of the same initiator port to this target is
     * closed first (session reinstatement, RFC 7143 §6.3.5): its tasks are aborted.
     */
    IscsiSession register(IscsiSession.SessionKey key, boolean discovery, io.tandem.scsi.Nexus nexus, int firstCmdSn) {
        IscsiSession old = discovery ? null : sessions.remove(key);
        List<CompletableFuture<Void>> previous = new ArrayList<>();
        if (!discovery) {
            // The initiator's other sessions whose connection it already closed: their nexus is
            // lost now, before the new one serves anything (their readers may not have seen the
            // close yet; a reconnect with a new ISID would otherwise find what they held still held).
            // unregister lists each release in `releasing`, where the wait below finds it.
            for (IscsiSession other : sessions.values()) {
                IscsiConnection connection = other.connection;
                if (sameInitiator(other.key, key) && connection != null && connection.peerClosed()) {
                    connection.terminate("closed by the initiator");
                    unregister(other);
                }
            }
            releasing.forEach((k, f) -> {
                if (sameInitiator(k, key)) {
                    previous.add(f);
                }
            });
        }
        if (old != null) {
            event("session reinstated: " + key.initiatorName() + " isid 0x" + Long.toHexString(key.isid()));
            IscsiConnection oldConnection = old.connection;
            if (oldConnection != null) {
                oldConnection.terminate("session reinstated by a new login");
            }
            // Synchronously, so the old nexus' tasks are gone before the new nexus starts.
            previous.add(release(old));
        }
        if (!previous.isEmpty()) {
            awaitRelease(key, CompletableFuture.allOf(previous.toArray(CompletableFuture[]::new)));
        }
        int tsih = nextTsih.getAndUpdate(v -> v >= 0xffff ? 1 : v + 1);
        IscsiSession session = new IscsiSession(key, tsih, discovery, nexus, firstCmdSn, config.commandWindow());
        if (!discovery) {
            sessions.put(key, session);
        }
        return session;
    }

    /** The same initiator logging in to the same target, whatever the ISID. */
    private static boolean sameInitiator(IscsiSession.SessionKey a, IscsiSession.SessionKey b) {
        return a.initiatorName().equals(b.initiatorName()) && a.targetName().equals(b.targetName());
    }

    /** Ends a session; the future completes when the SCSI core has released what the nexus held. */
    CompletableFuture<Void> unregister(IscsiSession session) {
        if (session.discovery) {
            return CompletableFuture.completedFuture(null);
        }
        // Listed as releasing before it leaves the table, so a login of the same port finds either
        // the session (and reinstates it) or its release (and waits for it).
        releasing.put(session.key, session.releaseDone);
        CompletableFuture<Void> released = release(session);
        sessions.remove(session.key, session);
        released.whenComplete((v, e) -> releasing.remove(session.key, session.releaseDone));
        return released;
    }

    /** Tells the SCSI core the nexus ended, once, whichever thread gets here first; all get its completion. */
    private CompletableFuture<Void> release(IscsiSession session) {
        if (session.discovery) {
            return CompletableFuture.completedFuture(null);
        }
        if (session.released.compareAndSet(false, true)) {
            scsiTarget.nexusRemoved(session.nexus).whenComplete((v, e) -> {
                if (e != null) {
                    session.releaseDone.completeExceptionally(e);
                } else {
                    session.releaseDone.complete(null);
                }
            });
        }
        return session.releaseDone;
    }

    /**
     * An initiator logging in again waits until what its ended nexuses held (a medium removal
     * prevention, an SPC-2 reservation) is released: in a cluster that is a record change every node
     * applies, which a quick reconnect would otherwise overtake (libiscsi's PreventAllow.ITNexusLoss
     * drops its connection, logs in again, with a new ISID, and ejects at once). Any of the
     * initiator's ports counts, since a reconnecting initiator may pick a new ISID. Bounded: a
     * release that cannot finish does not keep the initiator out.
     */
    private void awaitRelease(IscsiSession.SessionKey key, CompletableFuture<Void> pending) {
        try {
            pending.get(RELEASE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.WARNING, "releasing the previous nexus of " + key.initiatorName() + " did not finish: " + e);
        }
    }

    public int sessionCount() {
        return sessions.size();
    }

    /**
     * Stops accepting, asks every initiator to log out (Async Message), waits up to {@code grace}
     * for connections to end, then closes the rest. In-flight commands finish or are aborted by the
     * SCSI target's own close.
     */
    public void shutdown(Duration grace) {
        closing = true;
        scsiTarget.removeColdResetListener(coldResetListener);
        for (ServerSocketChannel listener : listeners) {
            try {
                listener.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (IscsiConnection connection : connections) {
            connection.requestLogout((int) Math.max(1, grace.toSeconds()));
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (IscsiConnection connection : connections) {
            connection.terminate("target shutting down");
        }
    }

    /**
     * TARGET COLD RESET (RFC 7143 11.5.1): every connection of every session is closed; initiators
     * log in again and find the power-on unit attention. Discovery sessions are left alone. The
     * issuing connection ({@code issuer}, may be null) is left to close itself right after its
     * response; the others close now, before that response goes out, so none serves a command after
     * the initiator heard the reset is done. In a cluster the target is every node's: the other
     * nodes close theirs when they apply the reset (see {@link ScsiTarget#addColdResetListener}).
     */
    void coldReset(IscsiConnection issuer) {
        for (IscsiConnection connection : connections) {
            if (connection != issuer) {
                connection.terminateAfterColdReset();
            }
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
