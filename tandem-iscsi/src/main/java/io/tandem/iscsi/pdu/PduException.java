package io.tandem.iscsi.pdu;

/**
 * A protocol violation, carrying how to recover (SPDK's three levels): answer with a Reject and go
 * on, drop just the connection, or drop the PDU silently.
 */
public final class PduException extends Exception {

    public enum Level { REJECT, DROP_CONNECTION, DROP_PDU }

    /** Reject reason codes, RFC 7143 §11.17.1. */
    public static final int REASON_DATA_DIGEST_ERROR = 0x02;
    public static final int REASON_SNACK_REJECT = 0x03;
    public static final int REASON_PROTOCOL_ERROR = 0x04;
    public static final int REASON_COMMAND_NOT_SUPPORTED = 0x05;
    public static final int REASON_IMMEDIATE_COMMAND_REJECT = 0x06;
    public static final int REASON_TASK_IN_PROGRESS = 0x07;
    public static final int REASON_INVALID_DATA_ACK = 0x08;
    public static final int REASON_INVALID_PDU_FIELD = 0x09;
    public static final int REASON_OUT_OF_RESOURCES = 0x0a;
    public static final int REASON_WAITING_FOR_LOGOUT = 0x0c;

    private final Level level;
    private final int rejectReason;

    public PduException(Level level, int rejectReason, String message) {
        super(message, null, false, false);
        this.level = level;
        this.rejectReason = rejectReason;
    }

    public static PduException reject(int reason, String message) {
        return new PduException(Level.REJECT, reason, message);
    }

    public static PduException drop(String message) {
        return new PduException(Level.DROP_CONNECTION, REASON_PROTOCOL_ERROR, message);
    }

    public Level level() {
        return level;
    }

    public int rejectReason() {
        return rejectReason;
    }
}
