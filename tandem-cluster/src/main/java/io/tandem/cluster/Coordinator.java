package io.tandem.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * Keeps the per-LU {@link LuState} records every node of a cluster must agree on.
 *
 * <p>Protocol of a change ({@link #update}): read the record, compute the next one with the
 * caller's pure function, compare-and-set it on its version (recomputing on a conflict); every
 * node's {@link LuStateWatcher} then applies the new version; the returned future completes once
 * every live member has applied it. Implementations: {@link LocalCoordinator} (one node, state
 * persisted under the data directory) and {@code ZooKeeperCoordinator} (a cluster on ZooKeeper).
 *
 * <p>Besides the records, a coordinator knows the cluster's live {@linkplain #members() members}
 * (what each node publishes with {@link #announce}), whether this node may {@linkplain #serving()
 * serve} clustered LUs right now (lease-based self-fencing), and keeps the cluster-wide
 * {@linkplain #config() configuration}. Listeners are called on the coordinator's event thread, one
 * call at a time, and must not block.
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

    // ---------------------------------------------------------------- membership

    /**
     * Publishes (or replaces) what this node tells the others about itself: its portals, portal group
     * tag, target port group and relative target port ids. The node is a member (it is waited for by
     * {@link #update}) from the coordinator's start; this only sets what it publishes, typically once
     * its listeners are bound. Republished automatically after a session loss.
     */
    void announce(Member self);

    /** Every live member, ordered by node id (this node included); never blocks. */
    List<Member> members();

    /** Hears of every change of {@link #members()}; is not called for the current set on registration. */
    void addMembershipListener(MembershipListener listener);

    void removeMembershipListener(MembershipListener listener);

    /**
     * Sets what fences a lost member at the storage ({@link Fencer}; {@link Fencer#NONE} until set).
     * Cluster coordinators call it before they go on without a member that did not leave cleanly,
     * and keep waiting (retrying) while it fails. Set it before announcing fence targets.
     */
    default void setFencer(Fencer fencer) {
    }

    // ---------------------------------------------------------------- self-fencing

    /**
     * Whether this node may execute commands on clustered LUs now: its coordinator session is known
     * live and its cached records are current. A plain volatile read, cheap enough for every command's
     * precheck. False from the moment the connection to the coordinator is in doubt (strictly before
     * the cluster can declare this node dead and stop waiting for it) until the node has re-read every
     * joined record; while false, the node must refuse commands on clustered LUs (BUSY or ALUA
     * Transitioning) so initiators retry on another path. Always true for {@link LocalCoordinator}.
     */
    boolean serving();

    /** Hears of every flip of {@link #serving()}. */
    void addServingListener(ServingListener listener);

    void removeServingListener(ServingListener listener);

    // ---------------------------------------------------------------- configuration

    /** The cluster-wide configuration store (LUNs, target, ACLs) every node applies. */
    ConfigStore config();

    @Override
    void close();
}
