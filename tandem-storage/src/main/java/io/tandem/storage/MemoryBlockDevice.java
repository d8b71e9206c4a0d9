package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** A volatile block device in heap memory, for tests and scratch LUNs. Thread-safe. */
public final class MemoryBlockDevice implements BlockDevice {

    private final int blockSize;
    private final long blockCount;
    private final byte[] data;
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
            dst.put(data, offset, dst.remaining());
            return CompletableFuture.completedFuture(null);
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        try {
            int offset = checkedOffset(lba, src.remaining());
            src.get(data, offset, src.remaining());
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
