package io.tandem.scsi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The SCSI target device: the logical units one target name exports. This is the scsi layer's
 * entry point for fabrics. (Contract only: to be implemented.)
 */
public final class ScsiTarget implements AutoCloseable {

    public ScsiTarget(String targetName, List<LunSpec> luns) {
        throw new UnsupportedOperationException("todo");
    }

    public String targetName() {
        throw new UnsupportedOperationException("todo");
    }

    /** Accepts a command. Never throws; the outcome reaches {@code task.port()} exactly once. */
    public void submit(ScsiTask task) {
        throw new UnsupportedOperationException("todo");
    }

    /** A new I_T nexus exists (login): its power-on/reset unit attention is established. */
    public void nexusAdded(Nexus nexus) {
        throw new UnsupportedOperationException("todo");
    }

    /** The nexus ended (logout, session closed): its tasks are aborted, its per-nexus state dropped. */
    public void nexusRemoved(Nexus nexus) {
        throw new UnsupportedOperationException("todo");
    }

    /** Runs a task management function; {@code referencedTag} is used by ABORT TASK only. */
    public CompletableFuture<TaskManagementResult> taskManagement(Nexus nexus, TaskManagementFunction function,
                                                                   long lun, long referencedTag) {
        throw new UnsupportedOperationException("todo");
    }

    /** Flushes and closes every LU's device after in-flight tasks finish. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("todo");
    }
}
