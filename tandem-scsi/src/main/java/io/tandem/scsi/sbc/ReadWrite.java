package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.BlockAddressing;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * READ and WRITE (6/10/12/16) (SBC-4 5.14-5.18, 5.40-5.44). The precheck already decoded and
 * range-checked the LBA and length and refused reserved bits (RDPROTECT/WRPROTECT are not in the
 * usage masks since the LU has no protection information).
 */
public final class ReadWrite {

    /** DPO and FUA sit at byte 1 bits 4 and 3 in every 10/12/16-byte read and write CDB. */
    static final int FUA = 0x08;

    private ReadWrite() {
    }

    public static CompletableFuture<ScsiResponse> read(Command c) {
        long blocks = c.transferBlocks();
        if (blocks == 0) {
            return Command.good();
        }
        LogicalUnit lu = c.lu();
        // The data-in buffer is sized to the transfer and the device reads straight into it.
        ByteBuffer data = c.bulk((int) (blocks * lu.blockSize()));
        return c.io(() -> lu.device().read(c.lba(), data))
                .thenApply(v -> ScsiResponse.good(data.clear()));
    }

    public static CompletableFuture<ScsiResponse> write(Command c) {
        LogicalUnit lu = c.lu();
        ByteBuffer data = c.dataOut();
        if (data == null || !data.hasRemaining()) {
            return Command.good();
        }
        return c.io(() -> lu.device().write(c.lba(), data, forceUnitAccess(c)))
                .thenApply(v -> ScsiResponse.good());
    }

    /** FUA from the CDB, or every write when the Caching page's WCE is off (write-through). */
    static boolean forceUnitAccess(Command c) {
        boolean fua = c.descriptor().addressing() != BlockAddressing.CDB6 && (c.cdb()[1] & FUA) != 0;
        return fua || !c.lu().modeParameters().writeCacheEnabled();
    }
}
