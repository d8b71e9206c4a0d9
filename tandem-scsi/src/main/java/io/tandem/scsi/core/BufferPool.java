package io.tandem.scsi.core;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for bulk data (READ data-in, WRITE data-out), reused by power-of-two size class.
 *
 * <p>Allocating a fresh direct buffer per command costs zeroing, a reservation against
 * MaxDirectMemorySize (which under load stalls in System.gc()) and Cleaner work; reuse avoids all
 * three. A buffer comes back only after the fabric has sent it (see {@link Command#releaseBulk()}),
 * never from the abort path, where a backend may still be writing into it.
 */
public final class BufferPool {

    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 24;

    private final ConcurrentLinkedQueue<ByteBuffer>[] free;
    private final AtomicLong pooledBytes = new AtomicLong();
    private final long maxPooledBytes;

    @SuppressWarnings("unchecked")
    public BufferPool(long maxPooledBytes) {
        this.maxPooledBytes = maxPooledBytes;
        this.free = new ConcurrentLinkedQueue[MAX_SHIFT + 1];
        for (int i = MIN_SHIFT; i <= MAX_SHIFT; i++) {
            free[i] = new ConcurrentLinkedQueue<>();
        }
    }

    /** A direct buffer with position 0 and limit {@code bytes}; its contents are undefined. */
    public ByteBuffer acquire(int bytes) {
        int shift = shiftFor(bytes);
        if (shift > MAX_SHIFT) {
            return ByteBuffer.allocateDirect(bytes);
        }
        ByteBuffer buffer = free[shift].poll();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(1 << shift);
        } else {
            pooledBytes.addAndGet(-buffer.capacity());
        }
        return buffer.clear().limit(bytes);
    }

    /** Returns a buffer obtained from {@link #acquire}; the caller must not touch it afterwards. */
    public void release(ByteBuffer buffer) {
        int capacity = buffer.capacity();
        if (Integer.bitCount(capacity) != 1 || capacity < (1 << MIN_SHIFT) || capacity > (1 << MAX_SHIFT)
                || !buffer.isDirect()) {
            return;
        }
        if (pooledBytes.addAndGet(capacity) > maxPooledBytes) {
            pooledBytes.addAndGet(-capacity);
            return; // pool full: let the GC have it
        }
        free[Integer.numberOfTrailingZeros(capacity)].offer(buffer);
    }

    private static int shiftFor(int bytes) {
        if (bytes <= 1 << MIN_SHIFT) {
            return MIN_SHIFT;
        }
        return 32 - Integer.numberOfLeadingZeros(bytes - 1);
    }
}
