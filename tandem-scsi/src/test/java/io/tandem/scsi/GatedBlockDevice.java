package io.tandem.scsi;

import io.tandem.storage.BlockDevice;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wraps a device so tests control when operations finish: while closed, reads and writes are
 * accepted but complete only when {@link #open} is called. Records FUA flags and flushes.
 */
final class GatedBlockDevice implements BlockDevice {

    private final BlockDevice inner;
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final Semaphore started = new Semaphore(0);
    private volatile boolean closedGate;
    final List<Boolean> writeFuaFlags = new CopyOnWriteArrayList<>();
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger writesCompleted = new AtomicInteger();
    final AtomicInteger readsStarted = new AtomicInteger();

    GatedBlockDevice(BlockDevice inner) {
        this.inner = inner;
    }

    void close(boolean closed) {
        this.closedGate = closed;
    }

    /** Waits until {@code n} operations have been started on the device. */
    void awaitStarted(int n) throws InterruptedException {
        if (!started.tryAcquire(n, 10, TimeUnit.SECONDS)) {
            throw new AssertionError("backend operations did not start");
        }
    }

    /** Lets every held operation complete, and later ones pass straight through. */
    void open() {
        closedGate = false;
        for (Runnable r : held) {
            held.remove(r);
            r.run();
        }
    }

    private <T> CompletableFuture<T> gate(java.util.function.Supplier<CompletableFuture<T>> op) {
        started.release();
        if (!closedGate) {
            return op.get();
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        held.add(() -> op.get().whenComplete((v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        }));
        return f;
    }

    @Override public int blockSize() { return inner.blockSize(); }
    @Override public long blockCount() { return inner.blockCount(); }
    @Override public boolean readOnly() { return inner.readOnly(); }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        readsStarted.incrementAndGet();
        return gate(() -> inner.read(lba, dst));
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        writeFuaFlags.add(forceUnitAccess);
        return gate(() -> inner.write(lba, src, forceUnitAccess).whenComplete((v, e) -> writesCompleted.incrementAndGet()));
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        writeFuaFlags.add(forceUnitAccess);
        return gate(() -> inner.update(lba, buffer, change, forceUnitAccess));
    }

    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        writeFuaFlags.add(forceUnitAccess);
        return gate(() -> inner.writeAtomic(lba, src, forceUnitAccess));
    }

    @Override
    public CompletableFuture<Void> flush() {
        flushes.incrementAndGet();
        return inner.flush();
    }

    @Override
    public void close() {
        inner.close();
    }
}
