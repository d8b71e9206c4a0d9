package io.tandem.scsi;

/** Outcome of a task management function, in SAM terms; fabrics map it to their response codes. */
public enum TaskManagementResult {
    FUNCTION_COMPLETE, TASK_DOES_NOT_EXIST, LUN_DOES_NOT_EXIST, FUNCTION_NOT_SUPPORTED,
    AUTHORIZATION_FAILED, FUNCTION_REJECTED
}
