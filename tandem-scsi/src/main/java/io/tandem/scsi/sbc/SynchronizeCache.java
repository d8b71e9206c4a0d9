package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import java.util.concurrent.CompletableFuture;

/**
 * SYNCHRONIZE CACHE(10/16) (SBC-4 5.26, 5.27). Backends flush whole devices; the range was checked
 * by the precheck. With IMMED set, GOOD is returned once the flush has been started.
 */
public final class SynchronizeCache {

    private static final int IMMED = 0x02;

    private SynchronizeCache() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        CompletableFuture<Void> flush = c.io(() -> c.lu().device().flush());
        if ((c.cdb()[1] & IMMED) != 0) {
            return Command.good();
        }
        return flush.thenApply(v -> ScsiResponse.good());
    }
}
