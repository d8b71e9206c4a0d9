package io.tandem.cluster;

/**
 * Fences a lost member at the storage: after {@link #fence} returns, nothing the lost node still
 * has in flight can land after what this node writes next. The server registers one with
 * {@link Coordinator#setFencer}; a coordinator calls it, with the member record the lost node last
 * announced (its {@link Member#fenceTargets()}), before it goes on without that node: before an
 * update stops waiting for it and before membership listeners hear that it is gone.
 *
 * <p>Must be idempotent (several survivors, and retries, fence one node) and may block (it talks
 * to the storage cluster). A failure is thrown: the coordinator then keeps waiting for the lost
 * node and retries, it never goes on unfenced.
 */
@FunctionalInterface
public interface Fencer {

    /** Fences nothing: for coordinators whose nodes write nothing shared that needs fencing. */
    Fencer NONE = lost -> { };

    /**
     * Fences every target {@code lost} announced, and returns once this node's own clients carry the
     * state that refuses them (for Ceph: the OSD map with the blocklist entries).
     *
     * @throws Exception when a target could not be fenced
     */
    void fence(Member lost) throws Exception;

    /**
     * Another node fenced a member (a coordinator that elects one fencer, like the RADOS one, calls
     * this on the others before they go on without it): makes this node's own clients carry the
     * state that refuses the fenced ones, so what this node writes next cannot be overtaken by them.
     */
    default void catchUp() throws Exception {
    }
}
