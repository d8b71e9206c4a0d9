package io.tandem.scsi;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * What the SCSI core needs from a fabric (iSCSI implements it per connection). The core calls it;
 * the fabric never interprets a CDB.
 */
public interface TransportPort {

    /**
     * Moves the task's Data-Out (immediate, unsolicited and solicited) into {@code into}, from
     * buffer offset 0 for {@code into.remaining()} bytes, which is never more than the task's
     * expected data transfer length. Completes when every byte has arrived, exceptionally if the
     * connection fails or the task is aborted first.
     */
    CompletableFuture<Void> receiveDataOut(ScsiTask task, ByteBuffer into);

    /**
     * Ends the task: sends data-in (if any), status and sense. Called exactly once per task unless
     * the task was aborted, in which case {@link #aborted} is called instead. The data-in buffer
     * belongs to the core again when this returns (it is pooled): send it before returning.
     */
    void complete(ScsiTask task, ScsiResponse response);

    /** The task was aborted by task management; the fabric sends nothing for it (no TAS here). */
    void aborted(ScsiTask task);
}
