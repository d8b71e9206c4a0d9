package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A volatile block device in heap memory, for tests and scratch LUNs. Thread-safe. Reads and
 * writes hold their byte range shared in a {@link RangeLockTable} (they never wait for each
 * other); {@link #update} and {@link #writeAtomic} hold theirs exclusively, so they are atomic
 * against every overlapping access. Operations complete on the caller's thread.
 */
public final class MemoryBlockDevice implements BlockDevice {

    private final int blockSize;
    private final long blockCount;
    private final byte[] data;
    private final RangeLockTable ranges = new RangeLockTable();
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
            int offset = checkedOffset(lba, src.remaining());
            try (var range = ranges.shared(offset, src.remaining())) {
                src.get(data, offset, src.remaining());
            }
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
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
                    medium.rewind().get(data, offset, medium.remaining());
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
                src.get(data, offset, src.remaining());
            }
            return CompletableFuture.completedFuture(null);
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

    private int checkedOffset(long lba, int length) {
        if (closed) {
            throw new StorageException(StorageException.Kind.CLOSED, "memory device is closed");
        }
        BlockSizes.checkRange(lba, length, blockSize, blockCount);
        return (int) (lba * blockSize);
    }
}
