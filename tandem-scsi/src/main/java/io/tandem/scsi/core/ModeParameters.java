package io.tandem.scsi.core;

/**
 * The changeable mode page fields of one logical unit, as one immutable value swapped atomically
 * by MODE SELECT. The pages' byte layouts live in the spc package; the data path reads these bits.
 *
 * @param writeCacheEnabled    Caching page WCE: when clear, every write is forced to stable storage
 * @param descriptorSense      Control page D_SENSE: descriptor- instead of fixed-format sense
 * @param softwareWriteProtect Control page SWP: the medium is write-protected
 * @param unitAttentionInterlock Control page UA_INTLCK_CTRL: {@link #UA_INTLCK_CLEAR} (00b), {@link #UA_INTLCK_KEEP}
 *                             (10b) or {@link #UA_INTLCK_KEEP_AND_REPORT_STATUS} (11b); 01b is reserved
 * @param taskAbortedStatus    Control page TAS: tasks aborted by another I_T nexus end with TASK ABORTED status
 * @param queueErrorManagement Control page QERR: {@link #QERR_CONTINUE} (00b), {@link #QERR_ABORT_ALL} (01b) or
 *                             {@link #QERR_ABORT_SAME_NEXUS} (11b); 10b is reserved
 */
public record ModeParameters(boolean writeCacheEnabled, boolean descriptorSense, boolean softwareWriteProtect,
                             int unitAttentionInterlock, boolean taskAbortedStatus, int queueErrorManagement) {

    /** UA_INTLCK_CTRL 00b: a unit attention reported with CHECK CONDITION is cleared. */
    public static final int UA_INTLCK_CLEAR = 0b00;
    /** UA_INTLCK_CTRL 10b: it stays pending (reported again) until REQUEST SENSE clears it. */
    public static final int UA_INTLCK_KEEP = 0b10;
    /** UA_INTLCK_CTRL 11b: as 10b, and BUSY / TASK SET FULL / RESERVATION CONFLICT leave a 2Ch unit attention. */
    public static final int UA_INTLCK_KEEP_AND_REPORT_STATUS = 0b11;

    /** QERR 00b: other tasks go on after a CHECK CONDITION. */
    public static final int QERR_CONTINUE = 0b00;
    /** QERR 01b: a CHECK CONDITION aborts every other task in the task set. */
    public static final int QERR_ABORT_ALL = 0b01;
    /** QERR 11b: a CHECK CONDITION aborts the other tasks of the same I_T nexus. */
    public static final int QERR_ABORT_SAME_NEXUS = 0b11;

    public static final ModeParameters DEFAULTS =
            new ModeParameters(true, false, false, UA_INTLCK_CLEAR, false, QERR_CONTINUE);

    public ModeParameters {
        if (unitAttentionInterlock != UA_INTLCK_CLEAR && unitAttentionInterlock != UA_INTLCK_KEEP
                && unitAttentionInterlock != UA_INTLCK_KEEP_AND_REPORT_STATUS) {
            throw new IllegalArgumentException("UA_INTLCK_CTRL " + unitAttentionInterlock);
        }
        if (queueErrorManagement != QERR_CONTINUE && queueErrorManagement != QERR_ABORT_ALL
                && queueErrorManagement != QERR_ABORT_SAME_NEXUS) {
            throw new IllegalArgumentException("QERR " + queueErrorManagement);
        }
    }

    /** The Caching and Control page bits of issue 2; the task-management bits at their defaults. */
    public ModeParameters(boolean writeCacheEnabled, boolean descriptorSense, boolean softwareWriteProtect) {
        this(writeCacheEnabled, descriptorSense, softwareWriteProtect, UA_INTLCK_CLEAR, false, QERR_CONTINUE);
    }

    public ModeParameters withWriteCacheEnabled(boolean v) {
        return new ModeParameters(v, descriptorSense, softwareWriteProtect, unitAttentionInterlock, taskAbortedStatus,
                queueErrorManagement);
    }

    /** The Control page's changeable fields at once. */
    public ModeParameters withControl(boolean dSense, boolean swp, int uaInterlock, boolean tas, int qerr) {
        return new ModeParameters(writeCacheEnabled, dSense, swp, uaInterlock, tas, qerr);
    }

    /** Whether a unit attention reported with CHECK CONDITION stays pending (UA_INTLCK_CTRL 10b or 11b). */
    public boolean unitAttentionsInterlocked() {
        return unitAttentionInterlock != UA_INTLCK_CLEAR;
    }
}
