package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.ScsiException;
import java.util.concurrent.CompletableFuture;

/**
 * START STOP UNIT (SBC-4 5.25) for a non-removable, motorless logical unit shared by every node.
 * Power conditions and START/STOP are accepted and change nothing: stopping the LU for one
 * initiator would stop it for all paths of the cluster. LOEJ asks to load or eject a medium that
 * cannot be removed, so it is refused.
 */
public final class StartStopUnit {

    /** POWER CONDITION values SBC-4 defines; the others are reserved. */
    private static final int VALID_POWER_CONDITIONS = (1 << 0x0) | (1 << 0x1) | (1 << 0x2) | (1 << 0x3)
            | (1 << 0x7) | (1 << 0xA) | (1 << 0xB);

    private StartStopUnit() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        int powerCondition = (cdb[4] >>> 4) & 0x0F;
        if ((VALID_POWER_CONDITIONS & (1 << powerCondition)) == 0) {
            throw ScsiException.invalidCdbField(4, 7);
        }
        boolean loej = (cdb[4] & 0x02) != 0;
        if (powerCondition == 0 && loej) {
            throw ScsiException.invalidCdbField(4, 1);
        }
        return Command.good();
    }
}
