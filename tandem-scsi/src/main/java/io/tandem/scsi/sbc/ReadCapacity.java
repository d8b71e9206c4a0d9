package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import java.util.concurrent.CompletableFuture;

/** READ CAPACITY(10) and READ CAPACITY(16) (SBC-4 5.20, 5.21). */
public final class ReadCapacity {

    private ReadCapacity() {
    }

    public static CompletableFuture<ScsiResponse> execute10(Command c) {
        byte[] cdb = c.cdb();
        boolean pmi = (cdb[8] & 0x01) != 0;
        if (!pmi && Bytes.u32(cdb, 2) != 0) {
            throw ScsiException.invalidCdbField(2, 7); // LBA must be 0 unless PMI is set
        }
        LogicalUnit lu = c.lu();
        long last = lu.blockCount() - 1;
        byte[] d = new byte[8];
        Bytes.putInt(d, 0, last > 0xFFFFFFFFL ? 0xFFFFFFFF : (int) last);
        Bytes.putInt(d, 4, lu.blockSize());
        return c.dataIn(d, d.length);
    }

    public static CompletableFuture<ScsiResponse> execute16(Command c) {
        byte[] cdb = c.cdb();
        boolean pmi = (cdb[14] & 0x01) != 0;
        if (!pmi && Bytes.u64(cdb, 2) != 0) {
            throw ScsiException.invalidCdbField(2, 7);
        }
        long allocation = Bytes.u32(cdb, 10);
        LogicalUnit lu = c.lu();
        byte[] d = new byte[32];
        Bytes.putLong(d, 0, lu.blockCount() - 1);
        Bytes.putInt(d, 8, lu.blockSize());
        // byte 12: no protection information; byte 13: logical blocks per physical block exponent;
        // byte 14: LBPME and LBPRZ when thin provisioned, lowest aligned LBA 0.
        d[13] = (byte) lu.logicalBlocksPerPhysicalExponent();
        d[14] = (byte) LogicalBlockProvisioning.readCapacityFlags(lu);
        return c.dataIn(d, allocation);
    }
}
