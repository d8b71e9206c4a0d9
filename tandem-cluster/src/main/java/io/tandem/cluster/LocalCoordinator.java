package io.tandem.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * The single-node coordinator: records live in memory; their durable part
 * ({@link LuState#durable()}) is written through {@link StateFile} under a state directory before a
 * new version becomes visible, so APTPL registrations and reservations survive a crash or kill -9.
 * The only member is this node, so a change is acknowledged once this node's watcher has applied it;
 * it always serves, and its configuration store lives in memory.
 */
public final class LocalCoordinator implements Coordinator {

    private static final System.Logger LOG = System.getLogger(LocalCoordinator.class.getName());
    private static final int MAX_ATTEMPTS = 1000;

    private final Path stateDir;   // null: nothing is persisted
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private final ConfigStore config = new MemoryConfigStore();
    private final CopyOnWriteArrayList<MembershipListener> membershipListeners =
            new CopyOnWriteArrayList<>();
    private volatile Member self = Member.bare(NODE_ID);
    private volatile boolean closed;

    private static final String NODE_ID = "local";

    private static final class Slot {
        final AtomicReference<LuState> current;
        final LuStateWatcher watcher;
        /** Completes when the watcher has applied the newest version handed to it; guarded by this. */
        CompletableFuture<Void> applied = CompletableFuture.completedFuture(null);

        Slot(LuState initial, LuStateWatcher watcher) {
            this.current = new AtomicReference<>(initial);
            this.watcher = watcher;
        }
    }

    private LocalCoordinator(Path stateDir) {
        this.stateDir = stateDir;
    }

    /** A coordinator persisting under {@code stateDir} (created if missing). */
    public static LocalCoordinator persistent(Path stateDir) {
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create state directory " + stateDir, e);
        }
        return new LocalCoordinator(stateDir);
    }

    /** A coordinator that keeps nothing across restarts (tests, scratch targets). */
    public static LocalCoordinator inMemory() {
        return new LocalCoordinator(null);
    }

    @Override
    public String nodeId() {
        return NODE_ID;
    }

    @Override
    public LuState join(String luId, LuStateWatcher watcher) {
        checkOpen();
        LuState stored = stateDir == null ? null : StateFile.read(stateDir, luId);
        Slot slot = new Slot(stored != null ? stored : LuState.initial(luId), watcher);
        if (slots.putIfAbsent(luId, slot) != null) {
            throw new IllegalStateException("LU " + luId + " joined twice");
        }
        return slot.current.get();
    }

    @Override
    public LuState cached(String luId) {
        return slot(luId).current.get();
    }

    @Override
    public CompletableFuture<LuState> update(String luId, UnaryOperator<LuState> change) {
        Slot slot;
        try {
            checkOpen();
            slot = slot(luId);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            LuState base = slot.current.get();
            LuState proposal;
            try {
                proposal = change.apply(base.withTransition(Transition.NONE));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (proposal == null || !proposal.luId().equals(luId)) {
                return CompletableFuture.failedFuture(new IllegalStateException("a change must return a record of LU " + luId));
            }
            if (proposal.sameContent(base) && proposal.transition().isNone()) {
                return CompletableFuture.completedFuture(base);
            }
            LuState next = proposal.withVersion(base.version() + 1);
            CompletableFuture<Void> before;
            CompletableFuture<Void> mine = new CompletableFuture<>();
            synchronized (slot) {
                if (slot.current.get() != base) {
                    continue; // lost the compare-and-set: recompute on the newer record
                }
                try {
                    if (stateDir != null && !next.durable().withVersion(0).equals(base.durable().withVersion(0))) {
                        StateFile.write(stateDir, next.durable());
                    }
                } catch (RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                }
                slot.current.set(next);
                before = slot.applied;
                slot.applied = mine;
            }
            // Versions are applied in order: each waits for the previous one's apply to finish.
            before.whenComplete((v, e) -> apply(slot, base, next).whenComplete((v2, e2) -> mine.complete(null)));
            return mine.thenApply(v -> next);
        }
        return CompletableFuture.failedFuture(new CoordinatorException(
                "LU " + luId + ": gave up after " + MAX_ATTEMPTS + " lost compare-and-set attempts"));
    }

    private static CompletableFuture<Void> apply(Slot slot, LuState previous, LuState next) {
        try {
            return slot.watcher.apply(previous, next).toCompletableFuture().exceptionally(e -> {
                LOG.log(System.Logger.Level.ERROR, "applying version " + next.version() + " of " + next.luId() + " failed", e);
                return null;
            });
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "applying version " + next.version() + " of " + next.luId() + " failed", e);
            return CompletableFuture.completedFuture(null);
        }
    }

    @Override
    public void leave(String luId) {
        slots.remove(luId);
    }

    @Override
    public void announce(Member member) {
        if (!member.nodeId().equals(NODE_ID)) {
            throw new IllegalArgumentException("the local coordinator's node id is " + NODE_ID + ", not " + member.nodeId());
        }
        self = member;
        List<Member> now = List.of(member);
        membershipListeners.forEach(l -> l.membersChanged(now));
    }

    @Override
    public List<Member> members() {
        return List.of(self);
    }

    @Override
    public void addMembershipListener(MembershipListener listener) {
        membershipListeners.add(listener);
    }

    @Override
    public void removeMembershipListener(MembershipListener listener) {
        membershipListeners.remove(listener);
    }

    /** A single node never loses its coordinator. */
    @Override
    public boolean serving() {
        return true;
    }

    @Override
    public void addServingListener(ServingListener listener) {
        // never flips
    }

    @Override
    public void removeServingListener(ServingListener listener) {
    }

    @Override
    public ConfigStore config() {
        return config;
    }

    @Override
    public void close() {
        closed = true;
        slots.clear();
    }

    private Slot slot(String luId) {
        Slot slot = slots.get(luId);
        if (slot == null) {
            throw new IllegalStateException("LU " + luId + " has not joined this coordinator");
        }
        return slot;
    }

    private void checkOpen() {
        if (closed) {
            throw new CoordinatorException("coordinator closed");
        }
    }
}
