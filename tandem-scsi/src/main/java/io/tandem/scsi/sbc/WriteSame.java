package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * WRITE SAME(10) and WRITE SAME(16) (SBC-4 5.49, 5.50): one block of Data-Out written to every
 * block of the range.
 *
 * <ul>
 *   <li>NUMBER OF LOGICAL BLOCKS 0 means "through the last LBA" (WSNZ=0); the resulting length, like
 *       any other, must not exceed MAXIMUM WRITE SAME LENGTH (INVALID FIELD IN CDB).</li>
 *   <li>UNMAP=1 (ANCHOR=0) on a thin LU asks for an unmap operation on every block of the range,
 *       whatever the Data-Out holds: the range is deallocated and reads as zeroes (LBPRZ=1). On a
 *       fully provisioned LU the UNMAP bit is refused (LBPWS=LBPWS10=0).</li>
 *   <li>NDOB (16 only): no Data-Out; the block is zeroes.</li>
 *   <li>ANCHOR, LBDATA, PBDATA and WRPROTECT are absent from the usage masks, so the precheck refuses
 *       them (ANC_SUP=0; the obsolete LBDATA/PBDATA have no meaning without protection information).</li>
 *   <li>The Data-Out must be exactly one block: an expected data transfer length of anything else
 *       is an invalid field in the command information unit.</li>
 * </ul>
 */
public final class WriteSame {

    private static final int UNMAP = 0x08;
    private static final int NDOB = 0x01;
    private static final int WRITE_SAME_16 = 0x93;

    private WriteSame() {
    }

    static boolean noDataOutBuffer(byte[] cdb) {
        return (cdb[0] & 0xFF) == WRITE_SAME_16 && (cdb[1] & NDOB) != 0;
    }

    /** The Data-Out length: one logical block, none with NDOB. */
    public static long dataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        return noDataOutBuffer(cdb) ? 0 : lu.blockSize();
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        LogicalUnit lu = c.lu();
        boolean unmap = (cdb[1] & UNMAP) != 0;
        if (unmap && !LogicalBlockProvisioning.thin(lu)) {
            throw ScsiException.invalidCdbField(1, 3);
        }
        long blocks = c.transferBlocks() == 0 ? lu.blockCount() - c.lba() : c.transferBlocks();
        if (blocks > LogicalBlockProvisioning.maxWriteSameBlocks(lu)) {
            throw ScsiException.invalidCdbField(c.descriptor().addressing().lengthOffset(), 7);
        }
        ByteBuffer block;
        if (noDataOutBuffer(cdb)) {
            block = ByteBuffer.allocate(lu.blockSize());
        } else {
            ByteBuffer data = c.dataOut();
            if (c.task().expectedDataTransferLength() != lu.blockSize() || data == null
                    || data.remaining() != lu.blockSize()) {
                throw ScsiException.of(SenseReason.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
            }
            block = data.duplicate();
        }
        if (blocks == 0) {
            return Command.good(); // zero blocks at the LBA just past the end
        }
        boolean fua = !lu.modeParameters().writeCacheEnabled();
        if (unmap) {
            return c.io(() -> lu.device().deallocate(c.lba(), blocks, fua)).thenApply(v -> ScsiResponse.good());
        }
        return c.io(() -> lu.device().writeSame(c.lba(), blocks, block, false, fua))
                .thenApply(v -> ScsiResponse.good());
    }
}
