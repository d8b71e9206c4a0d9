package io.tandem.it.support;

import io.tandem.storage.BlockDevice;
import io.tandem.storage.ProvisioningExtent;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A slow backend for task-management tests, installed with {@code TandemNode.start}'s device
 * decorator: while reads or writes are held, each such operation is accepted (the SCSI core sees it
 * in flight) but does not reach the wrapped device until {@link #release()}; with a delay set, each
 * operation reaches it after that delay. A held write has touched nothing yet, and once released it
 * is performed whole, as one call on the wrapped device. Every other operation (provisioning,
 * flush) goes straight to the wrapped device, so the LU keeps the wrapped device's capabilities.
 */
public final class HoldingBlockDevice implements BlockDevice {

    private final BlockDevice inner;
    private final Object lock = new Object();
    private final List<Runnable> held = new ArrayList<>();   // guarded by lock
    private boolean holdReads;                               // guarded by lock
    private boolean holdWrites;                              // guarded by lock
    private volatile Duration delay = Duration.ZERO;
    private final AtomicInteger readsStarted = new AtomicInteger();
    private final AtomicInteger writesStarted = new AtomicInteger();
    private final AtomicInteger writesApplied = new AtomicInteger();

    public HoldingBlockDevice(BlockDevice inner) {
        this.inner = inner;
    }

    public void holdReads() {
        synchronized (lock) {
            holdReads = true;
        }
    }

    public void holdWrites() {
        synchronized (lock) {
            holdWrites = true;
        }
    }

    /** Every later operation reaches the wrapped device only after {@code d}. */
    public void delay(Duration d) {
        this.delay = d;
    }

    /** Stops holding and lets every held operation reach the wrapped device, oldest first. */
    public void release() {
        List<Runnable> go;
        synchronized (lock) {
            holdReads = false;
            holdWrites = false;
            go = List.copyOf(held);
            held.clear();
        }
        go.forEach(Runnable::run);
    }

    /** Waits until {@code n} operations are held. */
    public void awaitHeld(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (heldCount() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " held backend operations, have " + heldCount());
            }
            Thread.sleep(5);
        }
    }

    public int heldCount() {
        synchronized (lock) {
            return held.size();
        }
    }

    /** Write calls the SCSI core made on this device (held or not). */
    public int writesStarted() {
        return writesStarted.get();
    }

    /** Writes the wrapped device finished. */
    public int writesApplied() {
        return writesApplied.get();
    }

    public int readsStarted() {
        return readsStarted.get();
    }

    @Override public int blockSize() { return inner.blockSize(); }
    @Override public long blockCount() { return inner.blockCount(); }
    @Override public boolean readOnly() { return inner.readOnly(); }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        readsStarted.incrementAndGet();
        return pass(false, () -> inner.read(lba, dst));
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        writesStarted.incrementAndGet();
        return pass(true, () -> inner.write(lba, src, forceUnitAccess)
                .whenComplete((v, e) -> writesApplied.incrementAndGet()));
    }

    /** The atomic read-modify-writes (COMPARE AND WRITE, WRITE ATOMIC) are writes: held and counted as such. */
    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, BlockDevice.RangeUpdate change, boolean forceUnitAccess) {
        writesStarted.incrementAndGet();
        return pass(true, () -> inner.update(lba, buffer, change, forceUnitAccess)
                .whenComplete((v, e) -> writesApplied.incrementAndGet()));
    }

    @Override
    public CompletableFuture<Long> compareAndWrite(long lba, ByteBuffer expected, ByteBuffer replacement,
                                                   boolean forceUnitAccess) {
        writesStarted.incrementAndGet();
        return pass(true, () -> inner.compareAndWrite(lba, expected, replacement, forceUnitAccess)
                .whenComplete((v, e) -> writesApplied.incrementAndGet()));
    }

    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        writesStarted.incrementAndGet();
        return pass(true, () -> inner.writeAtomic(lba, src, forceUnitAccess)
                .whenComplete((v, e) -> writesApplied.incrementAndGet()));
    }

    @Override
    public CompletableFuture<Void> copyTo(BlockDevice target, long srcLba, long dstLba, long blocks) {
        return inner.copyTo(target instanceof HoldingBlockDevice h ? h.inner : target, srcLba, dstLba, blocks);
    }

    @Override
    public CompletableFuture<Void> resize(long blocks) {
        return inner.resize(blocks);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return inner.flush();
    }

    @Override public boolean thinProvisioned() { return inner.thinProvisioned(); }
    @Override public int deallocationGranularity() { return inner.deallocationGranularity(); }

    @Override
    public CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        return inner.deallocate(lba, blocks, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean forceUnitAccess) {
        return inner.writeZeroes(lba, blocks, mayDeallocate, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> writeSame(long lba, long blocks, ByteBuffer block, boolean mayDeallocate,
                                             boolean forceUnitAccess) {
        return inner.writeSame(lba, blocks, block, mayDeallocate, forceUnitAccess);
    }

    @Override
    public CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        return inner.provisioningStatus(lba, maxExtents);
    }

    @Override
    public void close() {
        inner.close();
    }

    private <T> CompletableFuture<T> pass(boolean write, Supplier<CompletableFuture<T>> op) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Runnable start = () -> op.get().whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(v);
            }
        });
        Duration d = delay;
        Runnable delayed = d.isZero() ? start
                : () -> CompletableFuture.runAsync(start, CompletableFuture.delayedExecutor(d.toNanos(), TimeUnit.NANOSECONDS));
        synchronized (lock) {
            if (write ? holdWrites : holdReads) {
                held.add(delayed);
                return result;
            }
        }
        delayed.run();
        return result;
    }
}
