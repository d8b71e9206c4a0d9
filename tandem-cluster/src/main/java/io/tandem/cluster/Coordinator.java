package io.tandem.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * Keeps the per-LU {@link LuState} records every node of a cluster must agree on.
 *
 * <p>Protocol of a change ({@link #update}): read the record, compute the next one with the
 * caller's pure function, compare-and-set it on its version (recomputing on a conflict); every
 * node's {@link LuStateWatcher} then applies the new version; the returned future completes once
 * every live member has applied it. Implementations: {@link LocalCoordinator} (one node, state
 * persisted under the data directory); a ZooKeeper one follows the same contract.
 *
 * <p>The coordinator never interprets the record beyond its version and {@link LuState#durable()}.
 */
public interface Coordinator extends AutoCloseable {

    /** This node's id within the cluster (stable across restarts). */
    String nodeId();

    /**
     * Starts tracking an LU on this node: loads (or creates) its record, registers the node's apply
     * hook for every later version, and returns the current record. The hook is not called for the
     * returned version; the caller installs it itself. Joining the same LU twice is an error.
     */
    LuState join(String luId, LuStateWatcher watcher);

    /** This node's cached copy of the record (the latest version it has seen); never blocks. */
    LuState cached(String luId);

    /**
     * Changes an LU's record. {@code change} receives the current record with an empty
     * {@link Transition} and returns the next one (version is assigned by the coordinator), or the
     * same content to change nothing. It may run more than once (after a lost compare-and-set) and
     * must not have side effects; what it throws fails the returned future unchanged.
     *
     * @return the record as stored, once every live member applied it (or the current record when
     *         nothing changed)
     */
    CompletableFuture<LuState> update(String luId, UnaryOperator<LuState> change);

    /** Stops tracking an LU on this node; its stored record is kept. */
    void leave(String luId);

    @Override
    void close();
}
