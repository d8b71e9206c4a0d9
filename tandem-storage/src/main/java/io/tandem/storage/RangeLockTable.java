package io.tandem.storage;

import java.util.ArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * In-process byte-range locks with shared and exclusive modes, granted in arrival order.
 *
 * <p>Ordinary reads and writes take shared ranges (they never wait for each other); operations
 * that must not interleave with any other access to their range (COMPARE AND WRITE, ORWRITE,
 * atomic writes) take exclusive ones. A request is granted once no earlier request, granted or
 * still waiting, overlaps it in a conflicting mode, so a stream of shared requests cannot starve
 * an exclusive one. Uncontended, acquiring is one lock round trip and a list append.
 *
 * <p>Waiting blocks the calling thread; backends call this from their own (virtual) I/O threads.
 * A caller that needs two ranges of one table asks for both in one request ({@link #shared(long,
 * long, long, long)}): holding one while queueing for the other could deadlock against an
 * exclusive request spanning both. A caller that needs ranges of two tables takes them in
 * {@link #order()} order.
 */
public final class RangeLockTable {

    private static final java.util.concurrent.atomic.AtomicLong TABLES = new java.util.concurrent.atomic.AtomicLong();

    /** A granted request; {@link #close()} releases it (idempotent). */
    public final class Held implements AutoCloseable {
        /** Pairs of [start, end) bounds. */
        private final long[] bounds;
        private final boolean exclusive;
        private boolean granted;
        private boolean released;

        private Held(long[] bounds, boolean exclusive) {
            this.bounds = bounds;
            this.exclusive = exclusive;
        }

        private boolean conflictsWith(Held other) {
            if (!exclusive && !other.exclusive) {
                return false;
            }
            for (int i = 0; i < bounds.length; i += 2) {
                for (int j = 0; j < other.bounds.length; j += 2) {
                    if (bounds[i] < other.bounds[j + 1] && other.bounds[j] < bounds[i + 1]) {
                        return true;
                    }
                }
            }
            return false;
        }

        @Override
        public void close() {
            release(this);
        }
    }

    private final long order = TABLES.incrementAndGet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Every granted or waiting request, oldest first. */
    private final ArrayList<Held> requests = new ArrayList<>();

    /** Lock-ordering rank: a caller holding ranges of two tables acquires the lower rank first. */
    public long order() {
        return order;
    }

    /** Blocks until {@code [start, start + length)} is held shared (other shared holders allowed). */
    public Held shared(long start, long length) {
        return acquire(new long[]{start, checkedEnd(start, length)}, false);
    }

    /** Both ranges held shared, granted together. */
    public Held shared(long start1, long length1, long start2, long length2) {
        return acquire(new long[]{start1, checkedEnd(start1, length1), start2, checkedEnd(start2, length2)}, false);
    }

    /** Blocks until {@code [start, start + length)} is held by the caller alone. */
    public Held exclusive(long start, long length) {
        return acquire(new long[]{start, checkedEnd(start, length)}, true);
    }

    private static long checkedEnd(long start, long length) {
        if (length < 0 || start < 0) {
            throw new IllegalArgumentException("bad range " + start + "+" + length);
        }
        return start + length;
    }

    private Held acquire(long[] bounds, boolean exclusive) {
        Held request = new Held(bounds, exclusive);
        lock.lock();
        try {
            requests.add(request);
            while (!grantable(request)) {
                changed.awaitUninterruptibly();
            }
            request.granted = true;
            return request;
        } finally {
            lock.unlock();
        }
    }

    private boolean grantable(Held request) {
        for (Held earlier : requests) {
            if (earlier == request) {
                return true;
            }
            if (earlier.conflictsWith(request)) {
                return false;
            }
        }
        throw new IllegalStateException("request not queued");
    }

    private void release(Held held) {
        lock.lock();
        try {
            if (held.released) {
                return;
            }
            held.released = true;
            requests.remove(held);
            if (!requests.isEmpty()) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Requests currently granted or waiting (for tests and diagnostics). */
    public int size() {
        lock.lock();
        try {
            return requests.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether some request is waiting behind a conflicting one (for tests and diagnostics). */
    public boolean hasWaiters() {
        lock.lock();
        try {
            for (Held h : requests) {
                if (!h.granted) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }
}
