package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.RemovableMedium;
import io.tandem.scsi.pr.NexusIds;
import java.util.concurrent.CompletableFuture;

/**
 * PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.13). PREVENT=01b holds a removable LU's medium in for the
 * issuing I_T nexus, PREVENT=00b withdraws that nexus' hold; the medium cannot be ejected (or
 * loaded) while any nexus holds it (see {@link RemovableMedium}). The holds are the LU's on every
 * node of a cluster: GOOD goes out once every node has applied the change, so an eject through
 * another node is refused from then on. The obsolete values 10b/11b are outside the CDB usage mask.
 * A fixed LU's medium cannot be removed anyway: GOOD, nothing recorded.
 */
public final class PreventAllowMediumRemoval {

    private static final int PREVENT = 0x01;

    private PreventAllowMediumRemoval() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        RemovableMedium medium = c.lu().medium();
        if (medium == null) {
            return Command.good();
        }
        return medium.prevent(NexusIds.exact(c.nexus()), (c.cdb()[4] & PREVENT) != 0).thenApply(applied -> ScsiResponse.good());
    }
}
