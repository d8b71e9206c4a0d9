package io.tandem.cluster;

import java.util.concurrent.CompletionStage;

/**
 * A node's apply hook for one LU. Called once per new version, in version order, never
 * concurrently for the same LU. The node installs {@code next} in the cache its I/O path reads,
 * aborts the tasks {@code next.transition()} requires and waits for their in-flight backend writes,
 * queues unit attentions for its own nexuses, and only then completes the returned stage: that is
 * this node's "applied version N". The change's originator is answered after every live member
 * has applied it.
 *
 * <p>{@code next.version() == previous.version() + 1}, except after this node's coordinator session
 * expired: on rejoining it reloads the record and is handed one jump over the versions it missed,
 * whose notices it never sees (it was not serving meanwhile, and the others stopped waiting for it
 * when its session expired). An apply hook may treat such a jump as a reload.
 *
 * <p>An apply hook must not wait for a {@link Coordinator#update} of the same LU: the update waits
 * for this very apply to finish.
 */
@FunctionalInterface
public interface LuStateWatcher {

    /**
     * @param previous the version this node had applied before (version 0 record at first)
     * @param next     the new version
     * @return completes when this node has fully applied {@code next}
     */
    CompletionStage<Void> apply(LuState previous, LuState next);
}
