package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.LunAddress;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** REPORT LUNS (SPC-4 6.33). The target has no well-known LUs, so SELECT REPORT 01h lists none. */
public final class ReportLuns {

    private ReportLuns() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        int select = Bytes.u8(cdb, 2);
        long allocation = Bytes.u32(cdb, 6);
        if (allocation < 16) {
            throw ScsiException.invalidCdbField(6, 7);
        }
        List<LogicalUnit> luns = switch (select) {
            // LUN masking: a nexus is told only of the LUs it may see.
            case 0x00, 0x02 -> c.target().logicalUnits().stream().filter(lu -> lu.visibleTo(c.nexus())).toList();
            case 0x01 -> List.of();
            default -> throw ScsiException.invalidCdbField(2, 7);
        };
        // SPC-4: REPORT LUNS is exempt from unit attentions but clears REPORTED LUNS DATA HAS CHANGED
        // for its I_T nexus on every LU: the initiator now has the new inventory.
        for (LogicalUnit lu : c.target().logicalUnits()) {
            lu.unitAttentions(c.nexus()).remove(SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
        }
        byte[] d = new byte[8 + 8 * luns.size()];
        Bytes.putInt(d, 0, 8 * luns.size());
        for (int i = 0; i < luns.size(); i++) {
            Bytes.putLong(d, 8 + 8 * i, LunAddress.encode(luns.get(i).number()));
        }
        return c.dataIn(d, allocation);
    }
}
