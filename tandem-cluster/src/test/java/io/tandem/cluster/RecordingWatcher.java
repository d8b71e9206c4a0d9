package io.tandem.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An apply hook that records every (previous, next) pair it is handed and checks the hook's
 * contract as it goes (never concurrently for the LU). {@link #hold()} makes the following
 * applies wait until {@link #release()}.
 */
final class RecordingWatcher implements LuStateWatcher {

    private final List<LuState[]> applied = new ArrayList<>();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicBoolean overlapped = new AtomicBoolean();
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    @Override
    public CompletionStage<Void> apply(LuState previous, LuState next) {
        if (inside.incrementAndGet() != 1) {
            overlapped.set(true);
        }
        synchronized (this) {
            applied.add(new LuState[] {previous, next});
            notifyAll();
        }
        return gate.whenComplete((v, e) -> inside.decrementAndGet());
    }

    synchronized void hold() {
        gate = new CompletableFuture<>();
    }

    void release() {
        gate.complete(null);
    }

    synchronized List<Long> versions() {
        List<Long> v = new ArrayList<>();
        applied.forEach(p -> v.add(p[1].version()));
        return v;
    }

    synchronized List<LuState> states() {
        List<LuState> v = new ArrayList<>();
        applied.forEach(p -> v.add(p[1]));
        return v;
    }

    /** Each call's previous is the version handed before (or the joined one), each next its successor. */
    synchronized boolean inOrderWithoutGaps(long joinedVersion) {
        long expected = joinedVersion;
        for (LuState[] p : applied) {
            if (p[0].version() != expected || p[1].version() != expected + 1) {
                return false;
            }
            expected++;
        }
        return true;
    }

    boolean overlapped() {
        return overlapped.get();
    }

    /** Waits until a version at least {@code version} was handed over. */
    synchronized boolean awaitVersion(long version, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (applied.isEmpty() || applied.get(applied.size() - 1)[1].version() < version) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
