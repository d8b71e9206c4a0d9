package io.tandem.it.initiator;

/**
 * A protocol deviation the initiator noticed without failing a command. Kinds let a test tolerate a
 * documented deviation of a reference target while still catching every other one.
 */
public record Violation(Kind kind, String message) {
    public enum Kind {
        /** Data-In sequence (PDUs up to one with F) longer than MaxBurstLength (RFC 7143 13.13). */
        DATA_IN_SEQUENCE_OVER_MAX_BURST,
        /** SCSI Response ExpDataSN differs from the count of Data-In and R2T PDUs (RFC 7143 11.4.8). */
        EXP_DATA_SN,
        /** StatSN out of order (RFC 7143 4.2.2.2). */
        STAT_SN,
        /** MaxCmdSN below ExpCmdSN - 1. */
        COMMAND_WINDOW,
        /** A PDU for a task tag the initiator does not know. */
        UNKNOWN_TASK_TAG,
        /** Flags that make no sense for the command. */
        RESPONSE_FLAGS
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
