package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import java.util.concurrent.CompletableFuture;

/**
 * TEST UNIT READY (SPC-4 6.47). Everything that can make a unit not ready (missing LU, unit
 * attention, ALUA state, no medium) is decided by the precheck, so reaching here means ready.
 */
public final class TestUnitReady {

    private TestUnitReady() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        return Command.good();
    }
}
