package io.tandem.scsi.core;

/** Unwinds the pipeline of a task that task management aborted; never reported to the initiator. */
public final class TaskAbortedException extends RuntimeException {

    public static final TaskAbortedException INSTANCE = new TaskAbortedException();

    private TaskAbortedException() {
        super("task aborted", null, false, false);
    }
}
