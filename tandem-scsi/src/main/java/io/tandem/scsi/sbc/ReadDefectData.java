package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.ScsiException;
import java.util.concurrent.CompletableFuture;

/**
 * READ DEFECT DATA(10) and (12) (SBC-4 5.19, 5.20). A logical unit on a file or an RBD image has no
 * media defects it could name, so both the primary and the grown list are valid and empty, in the
 * format asked for (the format of an empty list is moot); the reserved format 111b is refused.
 */
public final class ReadDefectData {

    private static final int REQ_PLIST = 0x10;
    private static final int REQ_GLIST = 0x08;
    private static final int FORMAT = 0x07;
    private static final int FORMAT_RESERVED = 0x07;

    private ReadDefectData() {
    }

    public static CompletableFuture<ScsiResponse> execute10(Command c) {
        byte[] cdb = c.cdb();
        byte[] header = new byte[4];
        header[1] = listFlags(cdb, 2);
        // bytes 2..3: DEFECT LIST LENGTH 0
        return c.dataIn(header, Bytes.u16(cdb, 7));
    }

    public static CompletableFuture<ScsiResponse> execute12(Command c) {
        byte[] cdb = c.cdb();
        byte[] header = new byte[8];
        header[1] = listFlags(cdb, 1);
        // bytes 2..3: GENERATION CODE 0 (not supported); 4..7: DEFECT LIST LENGTH 0
        return c.dataIn(header, Bytes.u32(cdb, 6));
    }

    /** PLISTV / GLISTV for the lists requested, and the DEFECT LIST FORMAT echoed. */
    private static byte listFlags(byte[] cdb, int at) {
        int format = cdb[at] & FORMAT;
        if (format == FORMAT_RESERVED) {
            throw ScsiException.invalidCdbField(at, 2);
        }
        return (byte) (cdb[at] & (REQ_PLIST | REQ_GLIST | FORMAT));
    }
}
