package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A block store addressed by logical block. Backends execute decoded LBA ranges only: no CDBs,
 * no sense data. Every operation is asynchronous; failures complete the future exceptionally with
 * a {@link StorageException} whose {@link StorageException.Kind} the SCSI layer maps to sense.
 *
 * <p>Callers validate ranges before calling (the SCSI precheck does), but backends check again
 * and fail with {@code OUT_OF_RANGE} rather than touch bytes past the end.
 */
public interface BlockDevice extends AutoCloseable {

    /** Logical block size in bytes (512 or 4096). */
    int blockSize();

    /** Number of logical blocks. */
    long blockCount();

    /** Whether writes are refused by the backing store itself. */
    boolean readOnly();

    /** Reads {@code dst.remaining() / blockSize()} blocks starting at {@code lba} into {@code dst}. */
    CompletableFuture<Void> read(long lba, ByteBuffer dst);

    /**
     * Writes {@code src.remaining() / blockSize()} blocks starting at {@code lba}.
     *
     * @param forceUnitAccess the data must be on stable storage before the future completes
     */
    CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess);

    /** Makes every completed write stable. */
    CompletableFuture<Void> flush();

    /** Releases the backing store; pending operations complete first where the backend can. */
    @Override
    void close();

    default long capacityBytes() {
        return blockCount() * blockSize();
    }
}
