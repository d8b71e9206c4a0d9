package io.tandem.scsi;

import io.tandem.storage.BlockDevice;
import io.tandem.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** A device whose reads and writes fail with a chosen backend failure (a real SPI implementation, not a mock). */
final class FailingBlockDevice implements BlockDevice {

    private final StorageException.Kind readFailure;
    private final StorageException.Kind writeFailure;

    FailingBlockDevice(StorageException.Kind readFailure, StorageException.Kind writeFailure) {
        this.readFailure = readFailure;
        this.writeFailure = writeFailure;
    }

    @Override public int blockSize() { return 512; }
    @Override public long blockCount() { return 128; }
    @Override public boolean readOnly() { return false; }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        return CompletableFuture.failedFuture(new StorageException(readFailure, "injected"));
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        return CompletableFuture.failedFuture(new StorageException(writeFailure, "injected"));
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        return CompletableFuture.failedFuture(new StorageException(readFailure, "injected"));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return CompletableFuture.failedFuture(new StorageException(writeFailure, "injected"));
    }

    @Override
    public void close() {
    }
}
