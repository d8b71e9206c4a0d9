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
     *
     * <p>A task aborted by another I_T nexus while the Control page's TAS bit is set ends here too,
     * with status {@link ScsiResponse#TASK_ABORTED} and no data or sense; its Data-Out may still be
     * outstanding, and the fabric stops waiting for it.
     */
    void complete(ScsiTask task, ScsiResponse response);

    /**
     * The task was aborted (task management, QErr, nexus loss) and its initiator gets no status
     * for it: the fabric sends nothing and stops any Data-Out transfer still in progress.
     */
    void aborted(ScsiTask task);
}
