package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A block store addressed by logical block. Backends execute decoded LBA ranges only: no CDBs,
 * no sense data. Every operation is asynchronous; failures complete the future exceptionally with
 * a {@link StorageException} whose {@link StorageException.Kind} the SCSI layer maps to sense.
 *
 * <p>Callers validate ranges before calling (the SCSI precheck does), but backends check again
 * and fail with {@code OUT_OF_RANGE} rather than touch bytes past the end.
 *
 * <p>Provisioning: a device that can give storage back ({@link #thinProvisioned()}) deallocates
 * on {@link #deallocate}; a deallocated block reads as zeroes, always. The provisioning methods
 * have portable defaults built on {@link #write} (zeroes are written, nothing is deallocated, every
 * block reports mapped), so a backend that knows nothing of provisioning stays correct.
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

    /**
     * Whether {@link #deallocate} really gives storage back (and {@link #provisioningStatus} can
     * report deallocated blocks). False means every block stays mapped, whatever is written.
     */
    default boolean thinProvisioned() {
        return false;
    }

    /**
     * The unit, in bytes, in which storage is given back: a multiple of the block size. Parts of
     * a deallocated range that do not cover whole units are zeroed and stay mapped.
     */
    default int deallocationGranularity() {
        return blockSize();
    }

    /**
     * Deallocates {@code blocks} blocks from {@code lba}: afterwards they read as zeroes. Where the
     * device cannot deallocate (not thin, or partial units) it writes zeroes instead.
     *
     * @param forceUnitAccess the change must be on stable storage before the future completes
     */
    default CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        return BlockFill.writeRepeated(this, lba, blocks, ByteBuffer.allocate(blockSize()), forceUnitAccess);
    }

    /**
     * Writes zeroes to {@code blocks} blocks from {@code lba}.
     *
     * @param mayDeallocate the caller allows the blocks to be deallocated instead (they read as
     *                      zeroes either way); otherwise they end up mapped
     */
    default CompletableFuture<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean forceUnitAccess) {
        if (mayDeallocate && thinProvisioned()) {
            return deallocate(lba, blocks, forceUnitAccess);
        }
        return BlockFill.writeRepeated(this, lba, blocks, ByteBuffer.allocate(blockSize()), forceUnitAccess);
    }

    /**
     * Writes the one block in {@code block} (exactly {@link #blockSize()} bytes remaining; not
     * consumed) to each of {@code blocks} blocks from {@code lba}.
     *
     * @param mayDeallocate when the pattern is all zeroes, the blocks may be deallocated instead
     */
    default CompletableFuture<Void> writeSame(long lba, long blocks, ByteBuffer block, boolean mayDeallocate,
                                              boolean forceUnitAccess) {
        if (block.remaining() == blockSize() && BlockFill.isZero(block)) {
            return writeZeroes(lba, blocks, mayDeallocate, forceUnitAccess);
        }
        return BlockFill.writeRepeated(this, lba, blocks, block, forceUnitAccess);
    }

    /**
     * The provisioning state from {@code lba} on, as consecutive runs starting exactly at
     * {@code lba}: at most {@code maxExtents} of them, possibly ending before the last block (the
     * caller asks again from where the answer stopped). {@code lba} must be inside the device.
     */
    default CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        try {
            BlockSizes.checkBlocks(lba, 1, blockCount());
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.completedFuture(List.of(
                new ProvisioningExtent(lba, blockCount() - lba, ProvisioningExtent.State.MAPPED)));
    }

    /** Releases the backing store; pending operations complete first where the backend can. */
    @Override
    void close();

    default long capacityBytes() {
        return blockCount() * blockSize();
    }
}
