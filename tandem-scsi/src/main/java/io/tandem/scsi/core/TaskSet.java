package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;
import io.tandem.scsi.TaskAttribute;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The live tasks of one logical unit (one task set shared by all I_T nexuses, TST=000b) and the
 * SAM-5 task-attribute ordering between them:
 * <ul>
 *   <li>SIMPLE (and UNTAGGED, ACA, treated as SIMPLE): runs at once unless an older ORDERED or
 *       HEAD OF QUEUE task is still live; then it waits behind it in arrival order.</li>
 *   <li>ORDERED: waits until every older task has ended; newer SIMPLE/ORDERED tasks wait for it.</li>
 *   <li>HEAD OF QUEUE: runs at once, whatever is live or waiting; newer SIMPLE and ORDERED tasks
 *       wait for it.</li>
 * </ul>
 * Waiting tasks start in arrival order (a SIMPLE task never overtakes an older waiting one), so
 * every task an ORDERED task must follow has started before it.
 * The lock is per LU and held only for bookkeeping, never across I/O.
 */
public final class TaskSet {

    private record Key(Nexus nexus, long tag) {
    }

    private final Object lock = new Object();
    private final Map<Key, Command> live = new HashMap<>();
    private final LinkedHashSet<Command> running = new LinkedHashSet<>();
    private final ArrayDeque<Command> waiting = new ArrayDeque<>();
    private int runningOrdered;
    private int runningHeadOfQueue;
    private final List<CompletableFuture<Void>> emptyWaiters = new ArrayList<>(0);

    /** Outcome of {@link #enter}. */
    public enum Admission { RUN_NOW, WAIT, DUPLICATE_TAG }

    /**
     * Adds a task. RUN_NOW: the caller starts it. WAIT: it is parked and will be handed back by a
     * later {@link #leave}. DUPLICATE_TAG: another live task of the nexus has this tag (overlapped command).
     */
    public Admission enter(Command c) {
        synchronized (lock) {
            Key key = new Key(c.nexus(), c.task().tag());
            if (live.putIfAbsent(key, c) != null) {
                return Admission.DUPLICATE_TAG;
            }
            TaskAttribute a = c.task().attribute();
            if (a == TaskAttribute.HEAD_OF_QUEUE || (waiting.isEmpty() && mayStart(c))) {
                markRunning(c);
                return Admission.RUN_NOW;
            }
            waiting.addLast(c);
            return Admission.WAIT;
        }
    }

    /** Removes an ended task (idempotent) and returns the parked tasks that may start now, in order. */
    public List<Command> leave(Command c) {
        List<CompletableFuture<Void>> nowEmpty = null;
        try {
            synchronized (lock) {
                if (!live.remove(new Key(c.nexus(), c.task().tag()), c)) {
                    return List.of();
                }
                if (live.isEmpty() && !emptyWaiters.isEmpty()) {
                    nowEmpty = List.copyOf(emptyWaiters);
                    emptyWaiters.clear();
                }
                return unlink(c);
            }
        } finally {
            if (nowEmpty != null) {
                nowEmpty.forEach(f -> f.complete(null)); // outside the lock: waiters run arbitrary code
            }
        }
    }

    /** Completes once no task is live (at once if none is); used to drain an LU being removed. */
    public CompletableFuture<Void> whenEmpty() {
        synchronized (lock) {
            if (live.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            var f = new CompletableFuture<Void>();
            emptyWaiters.add(f);
            return f;
        }
    }

    /** Takes an ended task out of the running/waiting lists; returns the parked tasks it unblocked. Holds the lock. */
    private List<Command> unlink(Command c) {
        if (running.remove(c)) {
            switch (c.task().attribute()) {
                case ORDERED -> runningOrdered--;
                case HEAD_OF_QUEUE -> runningHeadOfQueue--;
                default -> { }
            }
        } else {
            waiting.remove(c);
        }
        List<Command> startable = null;
        while (!waiting.isEmpty() && mayStart(waiting.peekFirst())) {
            Command next = waiting.pollFirst();
            markRunning(next);
            if (startable == null) {
                startable = new ArrayList<>(2);
            }
            startable.add(next);
        }
        return startable == null ? List.of() : startable;
    }

    public Command find(Nexus nexus, long tag) {
        synchronized (lock) {
            return live.get(new Key(nexus, tag));
        }
    }

    /** Live tasks matching the filter, oldest first among the waiting ones. */
    public List<Command> select(Predicate<Command> filter) {
        synchronized (lock) {
            List<Command> out = new ArrayList<>();
            for (Command c : running) {
                if (filter.test(c)) {
                    out.add(c);
                }
            }
            for (Command c : waiting) {
                if (filter.test(c)) {
                    out.add(c);
                }
            }
            return out;
        }
    }

    public int size() {
        synchronized (lock) {
            return live.size();
        }
    }

    /** For a task at the head of the waiting line (or arriving to an empty one). */
    private boolean mayStart(Command c) {
        return c.task().attribute() == TaskAttribute.ORDERED
                ? running.isEmpty()
                : runningOrdered == 0 && runningHeadOfQueue == 0;
    }

    private void markRunning(Command c) {
        running.add(c);
        switch (c.task().attribute()) {
            case ORDERED -> runningOrdered++;
            case HEAD_OF_QUEUE -> runningHeadOfQueue++;
            default -> { }
        }
    }
}
