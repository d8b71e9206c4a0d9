package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

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

    /**
     * Grows the device to {@code blocks} blocks (an LU resize). Idempotent: growing to the current
     * size, or to a size the shared store already has (another node grew it), only updates this
     * device's view. Shrinking is refused (it would drop data initiators may still address). The
     * default refuses: the backend cannot grow.
     */
    default CompletableFuture<Void> resize(long blocks) {
        return CompletableFuture.failedFuture(new StorageException(StorageException.Kind.WRITE_ERROR,
                getClass().getSimpleName() + " cannot change its size"));
    }

    /**
     * Atomic read-modify-write: reads the blocks at {@code lba} into {@code buffer} (its remaining
     * bytes, whole blocks), hands them to {@code change}, and if it returns true writes the buffer
     * back. No other write to the range interleaves between the read and the write, and no reader
     * sees the write half done: within this process always, and across processes and nodes sharing
     * the store as far as the backend can lock it (see each implementation).
     *
     * <p>An exception thrown by {@code change} fails the future with that exception, unchanged,
     * and nothing is written. The default is unsupported: every backend must provide it.
     *
     * @return whether the range was written
     */
    default CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                getClass().getSimpleName() + " has no atomic read-modify-write"));
    }

    /**
     * COMPARE AND WRITE as one atomic step: if the blocks at {@code lba} equal {@code expected},
     * {@code replacement} (same length) is written there; otherwise nothing is written.
     *
     * <p>The default runs on {@link #update}; a backend whose store compares and writes natively
     * (Ceph RBD) overrides it.
     *
     * @return -1 when written, otherwise the offset of the first differing byte in {@code expected}
     */
    default CompletableFuture<Long> compareAndWrite(long lba, ByteBuffer expected, ByteBuffer replacement,
                                                    boolean forceUnitAccess) {
        if (expected.remaining() != replacement.remaining()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "compare and write lengths differ: " + expected.remaining() + " vs " + replacement.remaining()));
        }
        AtomicLong mismatch = new AtomicLong(-1);
        ByteBuffer current = ByteBuffer.allocate(expected.remaining());
        return update(lba, current, medium -> {
            int at = expected.mismatch(medium);
            if (at >= 0) {
                mismatch.set(at);
                return false;
            }
            medium.clear();
            medium.put(replacement.duplicate());
            medium.flip();
            return true;
        }, forceUnitAccess).thenApply(written -> written ? -1L : mismatch.get());
    }

    /**
     * A write that no concurrent reader or writer of this device observes half done (SBC WRITE
     * ATOMIC). The default runs on {@link #update}, which reads first; backends override it with a
     * plain write under their exclusive range lock.
     */
    default CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        ByteBuffer scratch = ByteBuffer.allocate(src.remaining());
        return update(lba, scratch, medium -> {
            medium.clear();
            medium.put(src.duplicate());
            medium.flip();
            return true;
        }, forceUnitAccess).thenApply(written -> null);
    }

    /**
     * Copies {@code blocks} blocks from this device at {@code srcLba} to {@code target} at
     * {@code dstLba} (EXTENDED COPY). Both devices must have the same block size. The default
     * reads and writes through memory in chunks; backends override it with an offloaded copy where
     * the store has one (file to file: {@code copy_file_range}).
     */
    default CompletableFuture<Void> copyTo(BlockDevice target, long srcLba, long dstLba, long blocks) {
        if (target.blockSize() != blockSize()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "block sizes differ: " + blockSize() + " vs " + target.blockSize()));
        }
        return BlockCopy.byChunks(this, target, srcLba, dstLba, blocks);
    }

    /**
     * Registers {@code listener} to hear the new block count whenever the device's capacity
     * changes underneath (a shared store resized by another client, e.g. {@code rbd resize}), and
     * after {@link #resize}. It runs on a backend thread and must not block. The default does
     * nothing: the capacity of such a device changes only through {@link #resize}.
     */
    default void onCapacityChange(java.util.function.LongConsumer listener) {
    }

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

    /** The change step of {@link #update}: inspects and may rewrite the range read from the medium. */
    @FunctionalInterface
    interface RangeUpdate {
        /**
         * @param medium the blocks as read, position 0; modify in place (keeping position and limit)
         * @return true to write {@code medium} back, false to leave the range as it is
         */
        boolean apply(ByteBuffer medium);
    }
}
