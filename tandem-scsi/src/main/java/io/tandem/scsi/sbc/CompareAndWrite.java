package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * COMPARE AND WRITE (SBC-4 5.3). The Data-Out carries NUMBER OF LOGICAL BLOCKS blocks of verify
 * data followed by as many blocks of write data; the blocks are compared and, only if all match,
 * replaced, as one atomic operation of the backing store ({@code BlockDevice.compareAndWrite}: a
 * byte-range lock on a shared file, or the store's own compare-and-write), so it holds against
 * COMPARE AND WRITEs from other nodes too. A difference ends the command with MISCOMPARE and the
 * offset of the first differing byte in the INFORMATION field.
 */
public final class CompareAndWrite {

    /** Block Limits MAXIMUM COMPARE AND WRITE LENGTH: the field is one byte, and so is the CDB's. */
    public static final int MAX_BLOCKS = 255;
    private static final int NUMBER_OF_BLOCKS_BYTE = 13;

    private CompareAndWrite() {
    }

    /** Data-Out: verify blocks plus write blocks; more blocks than the limit is INVALID FIELD IN CDB. */
    public static long dataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        if (blocks > MAX_BLOCKS) {
            throw ScsiException.invalidCdbField(NUMBER_OF_BLOCKS_BYTE, 7);
        }
        return 2 * blocks * lu.blockSize();
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        LogicalUnit lu = c.lu();
        long blocks = c.transferBlocks();
        int half = (int) blocks * lu.blockSize();
        // Verify and write data must both be whole: an initiator sending more or less than the CDB
        // implies has described a different command than the one it sent (SBC-4 5.3: the
        // Data-Out length is exactly twice NUMBER OF LOGICAL BLOCKS).
        if (c.task().expectedDataTransferLength() != 2L * half) {
            throw ScsiException.invalidCdbField(NUMBER_OF_BLOCKS_BYTE, 7);
        }
        if (blocks == 0) {
            return Command.good();
        }
        ByteBuffer data = c.dataOut();
        ByteBuffer verify = data.slice(data.position(), half);
        ByteBuffer write = data.slice(data.position() + half, half);
        return c.io(() -> lu.device().compareAndWrite(c.lba(), verify, write, ReadWrite.forceUnitAccess(c)))
                .thenApply(mismatch -> {
                    if (mismatch >= 0) {
                        throw ScsiException.withInformation(SenseReason.MISCOMPARE_DURING_VERIFY, mismatch);
                    }
                    return ScsiResponse.good();
                });
    }
}
