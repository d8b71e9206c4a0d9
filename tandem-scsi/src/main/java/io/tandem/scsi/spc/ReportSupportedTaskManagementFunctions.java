package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import java.util.concurrent.CompletableFuture;

/** REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36), matching what ScsiTarget.taskManagement runs. */
public final class ReportSupportedTaskManagementFunctions {

    private ReportSupportedTaskManagementFunctions() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        boolean extended = (cdb[2] & 0x80) != 0; // REPD
        long allocation = Bytes.u32(cdb, 6);
        byte[] d = new byte[extended ? 16 : 4];
        // ATS (abort task), ATSS (abort task set), CTSS (clear task set), LURS (LU reset), TRS (target reset)
        d[0] = (byte) (0x80 | 0x40 | 0x10 | 0x08 | 0x02);
        if (extended) {
            d[3] = 0x0C; // ADDITIONAL DATA LENGTH
        }
        return c.dataIn(d, allocation);
    }
}
