package io.tandem.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * Follows one LU's record on one node, for a clustered coordinator: each wake-up (a watch firing,
 * a notification, a resynchronisation) reads the record and hands every newer version to the
 * node's {@link LuStateWatcher}, one at a time and on one thread, so the watcher is never called
 * concurrently for the LU. Wake-ups that arrive during a round are served by the next one.
 * Subclasses say how the record is read and what the node publishes once it applied a version
 * (a znode, a notify acknowledgement).
 */
abstract class RecordFollower {

    private static final System.Logger LOG = System.getLogger(RecordFollower.class.getName());

    final String luId;
    final LuStateWatcher watcher;
    /** This node's applied record (its cache); null while joining. */
    volatile LuState applied;
    /** Set by a session renewal: the next catch-up may jump over versions the node missed. */
    volatile boolean gapExpected;
    volatile boolean stopped;

    /** The coordinator's count of versions skipped while this node was a member (a broken contract). */
    private final AtomicLong versionGaps;
    /** Change ids of the versions this follower saw lately (to settle an ambiguous compare-and-set). */
    private final Map<Long, String> recentChanges = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<CompletableFuture<Void>> wakeups = new LinkedBlockingQueue<>();
    private Thread thread;

    RecordFollower(String luId, LuStateWatcher watcher, AtomicLong versionGaps) {
        this.luId = luId;
        this.watcher = watcher;
        this.versionGaps = versionGaps;
    }

    /** Reads the record and applies it if it is newer ({@link #applyIfNewer}); called on the follower's thread. */
    abstract void catchUp() throws Exception;

    /** Whether the node serves: a failed round is then worth a warning, else it is expected. */
    abstract boolean serving();

    /** After every round, whether it succeeded or not. */
    void afterRound() {
    }

    final void start(Thread.Builder builder) {
        thread = builder.start(this::run);
    }

    /** Stops following; a follower that left has nothing to catch up, so nobody waits for it any more. */
    void stop() {
        stopped = true;
        if (thread != null) {
            thread.interrupt();
        }
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        wakeups.drainTo(waiting);
        waiting.forEach(w -> w.complete(null));
    }

    /** Asks for a round; from any thread, never blocks. */
    final void wake() {
        wakeups.offer(new CompletableFuture<>());
    }

    /** Completes after a catch-up that started after this call, or fails with it. */
    final CompletableFuture<Void> requestCatchUp() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        wakeups.offer(done);
        if (stopped) {
            done.complete(null);
        }
        return done;
    }

    /** The node's session was renewed: the next catch-up may jump, and older change ids are unknown. */
    void rejoining() {
        gapExpected = true;
        recentChanges.clear();
    }

    final void remember(LuRecordCodec.Stored stored) {
        recentChanges.put(stored.state().version(), stored.changeId());
        recentChanges.keySet().removeIf(v -> v < stored.state().version() - 64);
    }

    final String changeIdOf(long version) {
        return recentChanges.get(version);
    }

    /** Whether change {@code changeId} made {@code stored}, or a version this follower saw after {@code since}. */
    final boolean landed(LuRecordCodec.Stored stored, long since, String changeId) {
        if (changeId.equals(stored.changeId())) {
            return true;
        }
        for (long v = since + 1; v < stored.state().version(); v++) {
            if (changeId.equals(changeIdOf(v))) {
                return true;
            }
        }
        return false;
    }

    /**
     * What {@code change} makes of {@code current} (handed over without its transition), at the
     * next version; null when it changes nothing. What the change throws fails the update as is.
     */
    final LuState nextState(LuState current, UnaryOperator<LuState> change) {
        LuState proposal = change.apply(current.withTransition(Transition.NONE));
        if (proposal == null || !proposal.luId().equals(luId)) {
            throw new IllegalStateException("a change must return a record of LU " + luId);
        }
        if (proposal.sameContent(current) && proposal.transition().isNone()) {
            return null;
        }
        return proposal.withVersion(current.version() + 1);
    }

    /**
     * Hands {@code stored} to the watcher if it is newer than what this node applied. A jump of more
     * than one version is expected after a session renewal ({@code renewed}: the others stopped
     * waiting for this node); otherwise it breaks the coordinator's contract, and is counted.
     */
    final void applyIfNewer(LuRecordCodec.Stored stored, boolean renewed) throws InterruptedException {
        LuState next = stored.state();
        LuState previous = applied;
        remember(stored);
        if (next.version() > previous.version()) {
            if (next.version() != previous.version() + 1) {
                if (renewed) {
                    LOG.log(System.Logger.Level.WARNING, "LU {0}: reloaded after a session loss, version {1} -> {2}; "
                            + "the notices of the versions in between were not seen here", luId, previous.version(), next.version());
                } else {
                    versionGaps.incrementAndGet();
                    LOG.log(System.Logger.Level.ERROR, "LU {0}: version {1} arrived while {2} was applied: versions were skipped "
                            + "and their notices lost; this breaks the coordinator's contract", luId, next.version(), previous.version());
                }
            }
            applyOne(previous, next);
            applied = next;
        } else if (next.version() < previous.version()) {
            LOG.log(System.Logger.Level.ERROR, "LU {0}: the stored record went back from version {1} to {2} (was the record "
                    + "recreated?); keeping {1}", luId, previous.version(), next.version());
        }
    }

    private void run() {
        List<CompletableFuture<Void>> batch = new ArrayList<>();
        while (!stopped) {
            try {
                batch.add(wakeups.take());
            } catch (InterruptedException e) {
                break;
            }
            wakeups.drainTo(batch);
            try {
                catchUp();
                batch.forEach(r -> r.complete(null));
            } catch (InterruptedException e) {
                batch.forEach(r -> r.completeExceptionally(e));
                break;
            } catch (Exception e) {
                if (!stopped) {
                    LOG.log(serving() ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                            "LU {0}: following the record failed ({1}); the next wake-up retries", luId, e.toString());
                }
                batch.forEach(r -> r.completeExceptionally(e));
            } finally {
                afterRound();
            }
            batch.clear();
        }
    }

    private void applyOne(LuState previous, LuState next) throws InterruptedException {
        try {
            watcher.apply(previous, next).toCompletableFuture().get();
        } catch (ExecutionException | RuntimeException e) {
            // As in the local coordinator: a failing apply hook is logged and the version counts as
            // applied, or one broken node would stall the whole cluster's changes.
            LOG.log(System.Logger.Level.ERROR, "applying version " + next.version() + " of " + luId + " failed",
                    e instanceof ExecutionException ee ? ee.getCause() : e);
        }
    }
}
