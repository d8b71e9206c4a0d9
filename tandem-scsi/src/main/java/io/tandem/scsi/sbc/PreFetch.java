package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import java.util.concurrent.CompletableFuture;

/**
 * PRE-FETCH(10/16) (SBC-4 5.11, 5.12). The backends' caches are the host's page cache, which holds
 * any range a single command may name, so a range that passed the precheck reports CONDITION MET
 * ("the blocks would fit in the cache") without moving data.
 */
public final class PreFetch {

    private PreFetch() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        return CompletableFuture.completedFuture(new ScsiResponse(ScsiResponse.CONDITION_MET, null, null));
    }
}
