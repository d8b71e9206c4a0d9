package io.tandem.scsi.core;

import io.tandem.scsi.ScsiResponse;
import java.util.concurrent.CompletableFuture;

/**
 * Executes one command after the precheck passed. Failures are reported by throwing
 * {@link ScsiException} or completing the future exceptionally with it (or with a
 * {@code StorageException}); the caller turns either into CHECK CONDITION.
 */
@FunctionalInterface
public interface CommandHandler {
    CompletableFuture<ScsiResponse> execute(Command command);
}
