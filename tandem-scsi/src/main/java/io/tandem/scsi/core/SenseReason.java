package io.tandem.scsi.core;

import io.tandem.storage.StorageException;

/**
 * Every error and unit attention the SCSI core reports, with its sense key, additional sense code
 * and qualifier. This enum is the only place those numbers live; handlers throw
 * {@link ScsiException} carrying one of these values and {@link SenseData} writes the bytes.
 *
 * <p>For unit attentions, {@link #uaPriority()} orders a nexus' pending conditions (lower is
 * reported first): resets outrank parameter changes, which outrank informational conditions.
 */
public enum SenseReason {
    // ILLEGAL REQUEST
    INVALID_COMMAND_OPERATION_CODE(Key.ILLEGAL_REQUEST, 0x20, 0x00),
    LBA_OUT_OF_RANGE(Key.ILLEGAL_REQUEST, 0x21, 0x00),
    INVALID_FIELD_IN_CDB(Key.ILLEGAL_REQUEST, 0x24, 0x00),
    LOGICAL_UNIT_NOT_SUPPORTED(Key.ILLEGAL_REQUEST, 0x25, 0x00),
    INVALID_FIELD_IN_PARAMETER_LIST(Key.ILLEGAL_REQUEST, 0x26, 0x00),
    PARAMETER_LIST_LENGTH_ERROR(Key.ILLEGAL_REQUEST, 0x1A, 0x00),
    INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT(Key.ILLEGAL_REQUEST, 0x0E, 0x03),
    SAVING_PARAMETERS_NOT_SUPPORTED(Key.ILLEGAL_REQUEST, 0x39, 0x00),
    OPERATION_IN_PROGRESS(Key.ILLEGAL_REQUEST, 0x00, 0x16),
    TOO_MANY_TARGET_DESCRIPTORS(Key.ILLEGAL_REQUEST, 0x26, 0x06),
    UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE(Key.ILLEGAL_REQUEST, 0x26, 0x07),
    TOO_MANY_SEGMENT_DESCRIPTORS(Key.ILLEGAL_REQUEST, 0x26, 0x08),
    UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE(Key.ILLEGAL_REQUEST, 0x26, 0x09),
    MEDIUM_REMOVAL_PREVENTED(Key.ILLEGAL_REQUEST, 0x53, 0x02),
    INVALID_RELEASE_OF_PERSISTENT_RESERVATION(Key.ILLEGAL_REQUEST, 0x26, 0x04),
    INSUFFICIENT_REGISTRATION_RESOURCES(Key.ILLEGAL_REQUEST, 0x55, 0x04),

    // NOT READY
    LOGICAL_UNIT_NOT_READY(Key.NOT_READY, 0x04, 0x00),
    LOGICAL_UNIT_NOT_READY_INITIALIZING_COMMAND_REQUIRED(Key.NOT_READY, 0x04, 0x02),
    ASYMMETRIC_ACCESS_STATE_TRANSITION(Key.NOT_READY, 0x04, 0x0A),
    TARGET_PORT_IN_STANDBY_STATE(Key.NOT_READY, 0x04, 0x0B),
    TARGET_PORT_IN_UNAVAILABLE_STATE(Key.NOT_READY, 0x04, 0x0C),
    LOGICAL_UNIT_NOT_READY_OFFLINE(Key.NOT_READY, 0x04, 0x12),
    MEDIUM_NOT_PRESENT(Key.NOT_READY, 0x3A, 0x00),
    SANITIZE_IN_PROGRESS(Key.NOT_READY, 0x04, 0x1B),

    // MEDIUM ERROR / HARDWARE ERROR
    WRITE_ERROR(Key.MEDIUM_ERROR, 0x0C, 0x00),
    UNRECOVERED_READ_ERROR(Key.MEDIUM_ERROR, 0x11, 0x00),
    SANITIZE_COMMAND_FAILED(Key.MEDIUM_ERROR, 0x31, 0x03),
    INTERNAL_TARGET_FAILURE(Key.HARDWARE_ERROR, 0x44, 0x00),

    // DATA PROTECT
    WRITE_PROTECTED(Key.DATA_PROTECT, 0x27, 0x00),
    SOFTWARE_WRITE_PROTECTED(Key.DATA_PROTECT, 0x27, 0x02),
    SPACE_ALLOCATION_FAILED_WRITE_PROTECT(Key.DATA_PROTECT, 0x27, 0x07),

    // MISCOMPARE
    MISCOMPARE_DURING_VERIFY(Key.MISCOMPARE, 0x1D, 0x00),

    // COPY ABORTED (EXTENDED COPY: a segment could not be processed)
    COPY_TARGET_DEVICE_NOT_REACHABLE(Key.COPY_ABORTED, 0x0D, 0x02),
    THIRD_PARTY_DEVICE_FAILURE(Key.COPY_ABORTED, 0x0D, 0x01),
    INCORRECT_COPY_TARGET_DEVICE_TYPE(Key.COPY_ABORTED, 0x0D, 0x03),

    // ABORTED COMMAND
    OVERLAPPED_COMMANDS_ATTEMPTED(Key.ABORTED_COMMAND, 0x4E, 0x00),
    LOGICAL_UNIT_COMMUNICATION_TIME_OUT(Key.ABORTED_COMMAND, 0x08, 0x01),

    // UNIT ATTENTION, in reporting priority (lower first). Resets (29h) come first: they tell the
    // initiator that everything it knew may be stale. Then lost commands (2Fh), then changed
    // parameters (2Ah) with reservation news ahead of the rest, then changed inventory (3Fh), and
    // last the UA_INTLCK_CTRL=11b reminders of an earlier BUSY / TASK SET FULL / RESERVATION CONFLICT.
    UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET(Key.UNIT_ATTENTION, 0x29, 0x00, 10),
    UA_POWER_ON_OCCURRED(Key.UNIT_ATTENTION, 0x29, 0x01, 10),
    UA_SCSI_BUS_RESET_OCCURRED(Key.UNIT_ATTENTION, 0x29, 0x02, 11),
    UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED(Key.UNIT_ATTENTION, 0x29, 0x03, 12),
    UA_DEVICE_INTERNAL_RESET(Key.UNIT_ATTENTION, 0x29, 0x04, 12),
    UA_I_T_NEXUS_LOSS_OCCURRED(Key.UNIT_ATTENTION, 0x29, 0x07, 13),
    UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR(Key.UNIT_ATTENTION, 0x2F, 0x00, 20),
    UA_COMMANDS_CLEARED_BY_DEVICE_SERVER(Key.UNIT_ATTENTION, 0x2F, 0x02, 21),
    UA_RESERVATIONS_PREEMPTED(Key.UNIT_ATTENTION, 0x2A, 0x03, 30),
    UA_RESERVATIONS_RELEASED(Key.UNIT_ATTENTION, 0x2A, 0x04, 30),
    UA_REGISTRATIONS_PREEMPTED(Key.UNIT_ATTENTION, 0x2A, 0x05, 30),
    UA_ASYMMETRIC_ACCESS_STATE_CHANGED(Key.UNIT_ATTENTION, 0x2A, 0x06, 31),
    UA_IMPLICIT_ASYMMETRIC_ACCESS_STATE_TRANSITION_FAILED(Key.UNIT_ATTENTION, 0x2A, 0x07, 31),
    UA_MODE_PARAMETERS_CHANGED(Key.UNIT_ATTENTION, 0x2A, 0x01, 32),
    UA_CAPACITY_DATA_CHANGED(Key.UNIT_ATTENTION, 0x2A, 0x09, 33),
    UA_NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED(Key.UNIT_ATTENTION, 0x28, 0x00, 34),
    UA_INQUIRY_DATA_CHANGED(Key.UNIT_ATTENTION, 0x3F, 0x03, 40),
    UA_REPORTED_LUNS_DATA_CHANGED(Key.UNIT_ATTENTION, 0x3F, 0x0E, 41),
    UA_PREVIOUS_BUSY_STATUS(Key.UNIT_ATTENTION, 0x2C, 0x07, 50),
    UA_PREVIOUS_TASK_SET_FULL_STATUS(Key.UNIT_ATTENTION, 0x2C, 0x08, 50),
    UA_PREVIOUS_RESERVATION_CONFLICT_STATUS(Key.UNIT_ATTENTION, 0x2C, 0x09, 50);

    /** SPC-4 sense keys. */
    public static final class Key {
        public static final int NO_SENSE = 0x0;
        public static final int NOT_READY = 0x2;
        public static final int MEDIUM_ERROR = 0x3;
        public static final int HARDWARE_ERROR = 0x4;
        public static final int ILLEGAL_REQUEST = 0x5;
        public static final int UNIT_ATTENTION = 0x6;
        public static final int DATA_PROTECT = 0x7;
        public static final int COPY_ABORTED = 0xA;
        public static final int ABORTED_COMMAND = 0xB;
        public static final int MISCOMPARE = 0xE;

        private Key() {
        }
    }

    private final int senseKey;
    private final int asc;
    private final int ascq;
    private final int uaPriority;

    SenseReason(int senseKey, int asc, int ascq) {
        this(senseKey, asc, ascq, Integer.MAX_VALUE);
    }

    SenseReason(int senseKey, int asc, int ascq, int uaPriority) {
        this.senseKey = senseKey;
        this.asc = asc;
        this.ascq = ascq;
        this.uaPriority = uaPriority;
    }

    public int senseKey() { return senseKey; }
    public int asc() { return asc; }
    public int ascq() { return ascq; }

    public boolean isUnitAttention() {
        return senseKey == Key.UNIT_ATTENTION;
    }

    /** A power on, reset or nexus loss condition (ASC 29h): supersedes the lower-priority news pending with it. */
    public boolean isResetCondition() {
        return senseKey == Key.UNIT_ATTENTION && asc == 0x29;
    }

    /** Lower values are reported first when several unit attentions are pending. */
    public int uaPriority() {
        return uaPriority;
    }

    /** The one translation of backend failures into sense. */
    public static SenseReason of(StorageException.Kind kind) {
        return switch (kind) {
            case OUT_OF_RANGE -> LBA_OUT_OF_RANGE;
            case WRITE_PROTECTED -> WRITE_PROTECTED;
            case READ_ERROR -> UNRECOVERED_READ_ERROR;
            case WRITE_ERROR -> WRITE_ERROR;
            case SPACE_EXHAUSTED -> SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
            case CLOSED -> LOGICAL_UNIT_NOT_READY;
            // a fenced node's port is unusable for this LU: multipath moves to another port
            case FENCED -> TARGET_PORT_IN_UNAVAILABLE_STATE;
            // ABORTED COMMAND: initiators retry it
            case UNAVAILABLE -> LOGICAL_UNIT_COMMUNICATION_TIME_OUT;
        };
    }
}
