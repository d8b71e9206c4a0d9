package io.tandem.ceph;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a native handle from being freed while a call is using it: each call enters and exits,
 * closing refuses new calls and waits for the ones inside to leave. Native calls are short (an
 * asynchronous call only submits), so closing waits by polling.
 */
final class Lifetime {

    private static final long CLOSED = 1L << 62;

    private final String what;
    private final AtomicLong state = new AtomicLong();

    Lifetime(String what) {
        this.what = what;
    }

    /** Enters a call; throws {@link IllegalStateException} once closing began. Pair with {@link #exit()}. */
    void enter() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(what + " is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    void exit() {
        state.decrementAndGet();
    }

    /**
     * Refuses further calls and waits until none is inside.
     *
     * @return true for the one caller that closed it, false when it was already closing
     */
    boolean close() {
        long before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            return false;
        }
        while ((state.get() & ~CLOSED) != 0) {
            LockSupport.parkNanos(100_000);
        }
        return true;
    }
}
