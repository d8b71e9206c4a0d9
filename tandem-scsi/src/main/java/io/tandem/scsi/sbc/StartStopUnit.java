package io.tandem.scsi.sbc;

import io.tandem.cluster.NexusId;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.RemovableMedium;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.pr.NexusIds;
import java.util.concurrent.CompletableFuture;

/**
 * START STOP UNIT (SBC-4 5.25). No LU has a motor or power states: START/STOP and power
 * conditions are accepted and change nothing (a fixed LU is shared by every node; stopping it for
 * one initiator would stop it for all paths of the cluster).
 *
 * <p>LOEJ with POWER CONDITION 0h (START_VALID) loads (START=1) or ejects (START=0) the medium of
 * a removable LU, unless a nexus prevents its removal (ILLEGAL REQUEST / MEDIUM REMOVAL
 * PREVENTED). An eject first writes cached data to the backend unless NO_FLUSH is set. Loading
 * tells the other nexuses NOT READY TO READY CHANGE. The medium is the LU's on every node of a
 * cluster: the change is one change of the LU's record, and GOOD goes out once every node applied
 * it (an eject through one node is MEDIUM NOT PRESENT through all). A fixed LU refuses LOEJ (there is nothing to
 * eject) and reserved power conditions; a removable one, as libiscsi's StartStopUnit.PwrCnd
 * expects of a virtual removable medium, takes any POWER CONDITION other than 0h as a power
 * request that leaves the medium where it is.
 */
public final class StartStopUnit {

    private static final int START = 0x01;
    private static final int LOEJ = 0x02;
    private static final int NO_FLUSH = 0x04;
    private static final int START_VALID = 0x0;
    /** POWER CONDITION values SBC-4 defines; the others are reserved. */
    private static final int VALID_POWER_CONDITIONS = (1 << 0x0) | (1 << 0x1) | (1 << 0x2) | (1 << 0x3)
            | (1 << 0x7) | (1 << 0xA) | (1 << 0xB);

    private StartStopUnit() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        int powerCondition = (cdb[4] >>> 4) & 0x0F;
        boolean loej = (cdb[4] & LOEJ) != 0;
        RemovableMedium medium = c.lu().medium();
        if (medium == null) {
            if ((VALID_POWER_CONDITIONS & (1 << powerCondition)) == 0) {
                throw ScsiException.invalidCdbField(4, 7);
            }
            if (powerCondition == START_VALID && loej) {
                throw ScsiException.invalidCdbField(4, 1);
            }
            return Command.good();
        }
        if (powerCondition != START_VALID || !loej) {
            return Command.good();
        }
        NexusId issuer = NexusIds.exact(c.nexus());
        if ((cdb[4] & START) != 0) {
            return medium.change(true, issuer, c.task().tag()).thenApply(applied -> ScsiResponse.good());
        }
        medium.checkChangeAllowed(); // refuse before flushing for nothing
        CompletableFuture<Void> flushed = (cdb[4] & NO_FLUSH) != 0 || !medium.loaded()
                ? CompletableFuture.completedFuture(null)
                : c.io(() -> c.lu().device().flush());
        // A prevention may have begun during the flush, on any node: the change checks again.
        return flushed.thenCompose(v -> medium.change(false, issuer, c.task().tag())).thenApply(applied -> ScsiResponse.good());
    }
}
