package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A volatile block device in heap memory, for tests and scratch LUNs. Thread-safe.
 *
 * <p>Thin provisioned in the bookkeeping sense: the heap array is allocated up front, but a bitmap
 * records which blocks are deallocated (all of them, initially), so provisioning status behaves
 * like a sparse file's. Writing a block maps it; deallocating zeroes it and unmaps it.
 *
 * <p>Reads, writes and deallocations hold their byte range shared in a {@link RangeLockTable}
 * (they never wait for each other); {@link #update} and {@link #writeAtomic} hold theirs
 * exclusively, so they are atomic against every overlapping access. Operations complete on the
 * caller's thread.
 */
public final class MemoryBlockDevice implements BlockDevice {

    private final int blockSize;
    private final long blockCount;
    private final byte[] data;
    private final RangeLockTable ranges = new RangeLockTable();
    /** Set bit = deallocated block. Guarded by itself. */
    private final BitSet deallocated;
    private volatile boolean closed;

    public MemoryBlockDevice(int blockSize, long blockCount) {
        BlockSizes.check(blockSize);
        long bytes = blockCount * blockSize;
        if (blockCount <= 0 || bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("memory device size must be 1 block .. 2 GiB, got " + bytes + " bytes");
        }
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.data = new byte[(int) bytes];
        this.deallocated = new BitSet((int) blockCount);
        deallocated.set(0, (int) blockCount);
    }

    @Override public int blockSize() { return blockSize; }
    @Override public long blockCount() { return blockCount; }
    @Override public boolean readOnly() { return false; }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        try {
            int offset = checkedOffset(lba, dst.remaining());
            try (var range = ranges.shared(offset, dst.remaining())) {
                dst.put(data, offset, dst.remaining());
            }
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        try {
            int length = src.remaining();
            int offset = checkedOffset(lba, length);
            try (var range = ranges.shared(offset, length)) {
                store(lba, offset, src);
            }
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Copies {@code src} to the medium at {@code offset} and maps the blocks; the caller holds the range. */
    private void store(long lba, int offset, ByteBuffer src) {
        int length = src.remaining();
        src.get(data, offset, length);
        synchronized (deallocated) {
            deallocated.clear((int) lba, (int) lba + length / blockSize);
        }
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        try {
            int offset = checkedOffset(lba, buffer.remaining());
            try (var range = ranges.exclusive(offset, buffer.remaining())) {
                ByteBuffer medium = buffer.slice();
                medium.put(data, offset, medium.remaining()).flip();
                boolean write = change.apply(medium);
                if (write) {
                    store(lba, offset, medium.rewind());
                }
                return CompletableFuture.completedFuture(write);
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        try {
            int offset = checkedOffset(lba, src.remaining());
            try (var range = ranges.exclusive(offset, src.remaining())) {
                store(lba, offset, src);
            }
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public boolean thinProvisioned() {
        return true;
    }

    @Override
    public CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        try {
            checkOpen();
            BlockSizes.checkBlocks(lba, blocks, blockCount);
            int from = (int) lba;
            int to = (int) (lba + blocks);
            try (var range = ranges.shared((long) from * blockSize, (long) (to - from) * blockSize)) {
                synchronized (deallocated) {
                    Arrays.fill(data, from * blockSize, to * blockSize, (byte) 0);
                    deallocated.set(from, to);
                }
            }
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        try {
            checkOpen();
            BlockSizes.checkBlocks(lba, 1, blockCount);
            List<ProvisioningExtent> extents = new ArrayList<>();
            int end = (int) blockCount;
            synchronized (deallocated) {
                for (int at = (int) lba; at < end && extents.size() < Math.max(1, maxExtents); ) {
                    boolean free = deallocated.get(at);
                    int next = free ? deallocated.nextClearBit(at) : deallocated.nextSetBit(at);
                    if (next < 0 || next > end) {
                        next = end;
                    }
                    extents.add(new ProvisioningExtent(at, next - at,
                            free ? ProvisioningExtent.State.DEALLOCATED : ProvisioningExtent.State.MAPPED));
                    at = next;
                }
            }
            return CompletableFuture.completedFuture(List.copyOf(extents));
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> flush() {
        return closed ? CompletableFuture.failedFuture(new StorageException(StorageException.Kind.CLOSED, "closed"))
                : CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new StorageException(StorageException.Kind.CLOSED, "memory device is closed");
        }
    }

    private int checkedOffset(long lba, int length) {
        checkOpen();
        BlockSizes.checkRange(lba, length, blockSize, blockCount);
        return (int) (lba * blockSize);
    }
}
