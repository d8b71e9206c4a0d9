package io.tandem.scsi.core;

/**
 * Per-command properties the precheck reads. Each concern (unit attention, ALUA, reservations,
 * write protection, medium state) is decided by these flags, never by a list of opcodes.
 */
public enum CommandFlag {
    /** Served even when the addressed LUN does not exist (INQUIRY, REPORT LUNS, REQUEST SENSE). */
    ALLOWED_WITHOUT_LUN,
    /** A pending unit attention is neither reported nor cleared by this command. */
    UA_EXEMPT,
    /** Runs while the target port group is ALUA Standby. */
    ALUA_STANDBY_OK,
    /** Runs while the target port group is ALUA Unavailable. */
    ALUA_UNAVAILABLE_OK,
    /** Runs while the target port group is in ALUA transition. */
    ALUA_TRANSITIONING_OK,
    /** Runs while the target port is ALUA Offline (only what lets an initiator find out: INQUIRY, REPORT LUNS, REQUEST SENSE). */
    ALUA_OFFLINE_OK,
    /**
     * A nexus that is not registered may run it while another nexus holds a persistent reservation
     * of type Write Exclusive (or its Registrants Only / All Registrants variants).
     */
    PR_ALLOWED_UNDER_WRITE_EXCLUSIVE,
    /** As above, for Exclusive Access types. */
    PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS,
    /** Runs while another nexus holds an SPC-2 RESERVE(6/10) reservation. */
    ALLOWED_UNDER_SPC2_RESERVATION,
    /** Modifies the medium: refused on read-only LUs and when the Control page's SWP is set. */
    WRITES_MEDIUM,
    /** The transfer length is bounded by the Block Limits VPD page's MAXIMUM TRANSFER LENGTH. */
    TRANSFER_LIMITED,
    /** Needs the medium (refused with NOT READY when the LU has none / is stopped). */
    MEDIUM_ACCESS,
    /**
     * Runs while a sanitize operation is in progress or has failed (INQUIRY, REPORT LUNS, REQUEST
     * SENSE); every other command gets NOT READY, SANITIZE IN PROGRESS, or after a failure MEDIUM
     * ERROR, SANITIZE COMMAND FAILED (SBC-4 4.11).
     */
    RUNS_DURING_SANITIZE,
    /** A SANITIZE service action: the way out of a failed sanitize, so not refused by its failure. */
    SANITIZE
}
