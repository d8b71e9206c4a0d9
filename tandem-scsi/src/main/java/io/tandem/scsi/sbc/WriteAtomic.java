package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * WRITE ATOMIC(16) (SBC-4 5.48): a write that readers and other writers observe either not at
 * all or whole. The backing store writes it under an exclusive range lock
 * ({@code BlockDevice.writeAtomic}). Limits (Block Limits VPD): up to the MAXIMUM TRANSFER
 * LENGTH, aligned to and a multiple of the LU's physical block: an atomic write never covers part
 * of a physical block, the unit the LU tells initiators to align to. ATOMIC BOUNDARY is not
 * supported (outside the CDB usage mask).
 */
public final class WriteAtomic {

    private static final int LBA_BYTE = 2;
    private static final int TRANSFER_LENGTH_BYTE = 12;

    private WriteAtomic() {
    }

    /** ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY, in logical blocks. */
    public static int granularity(LogicalUnit lu) {
        return 1 << lu.logicalBlocksPerPhysicalExponent();
    }

    /** MAXIMUM ATOMIC TRANSFER LENGTH, in logical blocks. */
    public static long maxBlocks(LogicalUnit lu) {
        return lu.maxTransferBlocks();
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        long blocks = c.transferBlocks();
        if (blocks == 0) {
            return Command.good();
        }
        LogicalUnit lu = c.lu();
        int granularity = granularity(lu);
        if (blocks > maxBlocks(lu) || blocks % granularity != 0) {
            throw ScsiException.invalidCdbField(TRANSFER_LENGTH_BYTE, 7);
        }
        if (c.lba() % granularity != 0) {
            throw ScsiException.invalidCdbField(LBA_BYTE, 7);
        }
        ByteBuffer data = c.dataOut();
        if (data.remaining() != blocks * lu.blockSize()) {
            // An atomic write is all or nothing: a short Data-Out cannot be written in part.
            throw ScsiException.invalidCdbField(TRANSFER_LENGTH_BYTE, 7);
        }
        return c.io(() -> lu.device().writeAtomic(c.lba(), data, ReadWrite.forceUnitAccess(c)))
                .thenApply(v -> ScsiResponse.good());
    }
}
