package io.tandem.it.suite;

/**
 * Documented behaviours of a reference target that differ from what the contract demands of Tandem.
 * A test that meets a quirk either relaxes one assertion or is skipped with the quirk as the reason,
 * so the deviation stays visible in the report instead of being silently absorbed.
 */
public enum Quirk {
    /** Connection dropped on any Text Request in a normal session (tgt: "Cannot handle yet 4"). */
    NO_TEXT_REQUEST_IN_NORMAL_SESSION,
    /** CHAP_A=7 is taken as SHA-1 rather than SHA-256 (IANA: 6 = SHA-1, 7 = SHA-256). */
    CHAP_A_7_IS_NOT_SHA256,
    /** A data segment above MaxRecvDataSegmentLength is answered with a SCSI Response, not Reject/drop. */
    ANSWERS_OVERSIZED_DATA_SEGMENT_WITH_SCSI_STATUS,
    /** ABORT TASK answers "Task does not exist" for a command queued behind a CmdSN gap, then runs it. */
    ABORT_TASK_IGNORES_COMMANDS_HELD_FOR_CMDSN_ORDER,
    /** Before login, waits for a declared data segment of any size instead of refusing it. */
    WAITS_FOR_OVERSIZED_LOGIN_DATA
}
