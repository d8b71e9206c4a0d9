package io.tandem.scsi.core;

/**
 * The changeable mode page fields of one logical unit, as one immutable value. They are shared by
 * every I_T nexus on every node, so they live in the LU's cluster record ({@link #encode()}) and
 * MODE SELECT changes them through it. The pages' byte layouts live in the spc package; the data
 * path reads these bits.
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

    // The record's encoding: one bit or field per parameter, each stored as its difference from
    // DEFAULTS so that the defaults encode as 0 (the record leaves a 0 out).
    private static final long WCE_CLEARED = 1L;
    private static final long D_SENSE = 1L << 1;
    private static final long SWP = 1L << 2;
    private static final int UA_INTLCK_SHIFT = 3;
    private static final long TAS = 1L << 5;
    private static final int QERR_SHIFT = 6;
    private static final long KNOWN_BITS = (1L << 8) - 1;

    /** These parameters as the LU's cluster record stores them; {@link #DEFAULTS} is 0. */
    public long encode() {
        return (writeCacheEnabled ? 0 : WCE_CLEARED) | (descriptorSense ? D_SENSE : 0) | (softwareWriteProtect ? SWP : 0)
                | (long) unitAttentionInterlock << UA_INTLCK_SHIFT | (taskAbortedStatus ? TAS : 0)
                | (long) queueErrorManagement << QERR_SHIFT;
    }

    /** The parameters a record stores; a value no {@link #encode()} produced is refused. */
    public static ModeParameters decode(long encoded) {
        if (encoded == 0) {
            return DEFAULTS;
        }
        if ((encoded & ~KNOWN_BITS) != 0) {
            throw new IllegalArgumentException("unknown mode parameter bits " + Long.toHexString(encoded));
        }
        return new ModeParameters((encoded & WCE_CLEARED) == 0, (encoded & D_SENSE) != 0, (encoded & SWP) != 0,
                (int) (encoded >>> UA_INTLCK_SHIFT) & 0b11, (encoded & TAS) != 0, (int) (encoded >>> QERR_SHIFT) & 0b11);
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
