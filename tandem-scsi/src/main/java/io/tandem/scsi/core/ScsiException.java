package io.tandem.scsi.core;

/**
 * A command's failure as a value: the reason plus the optional sense details SPC-4 asks for. It is
 * thrown (or completes a future exceptionally) only to unwind to the one place that turns it into
 * CHECK CONDITION; it carries no stack trace because it is not a bug.
 */
public final class ScsiException extends RuntimeException {

    /** No sense-key-specific field pointer. */
    public static final int NO_FIELD = -1;

    private static final int NO_PROGRESS = -1;
    private static final ScsiException RESERVATION_CONFLICT =
            new ScsiException(null, false, NO_FIELD, NO_FIELD, 0, false, NO_PROGRESS);

    private final SenseReason reason;
    private final boolean inCdb;
    private final int fieldByte;
    private final int fieldBit;
    private final long information;
    private final boolean informationValid;
    private final int progress;

    private ScsiException(SenseReason reason, boolean inCdb, int fieldByte, int fieldBit,
                          long information, boolean informationValid, int progress) {
        super(reason == null ? "RESERVATION CONFLICT" : reason.name(), null, false, false);
        this.reason = reason;
        this.inCdb = inCdb;
        this.fieldByte = fieldByte;
        this.fieldBit = fieldBit;
        this.information = information;
        this.informationValid = informationValid;
        this.progress = progress;
    }

    public static ScsiException of(SenseReason reason) {
        return new ScsiException(reason, false, NO_FIELD, NO_FIELD, 0, false, NO_PROGRESS);
    }

    /** INVALID FIELD IN CDB pointing at {@code byteIndex}; {@code bit} is the field's most significant bit, or -1. */
    public static ScsiException invalidCdbField(int byteIndex, int bit) {
        return new ScsiException(SenseReason.INVALID_FIELD_IN_CDB, true, byteIndex, bit, 0, false, NO_PROGRESS);
    }

    /** INVALID FIELD IN PARAMETER LIST pointing at {@code byteIndex} of the parameter data. */
    public static ScsiException invalidParameterField(int byteIndex, int bit) {
        return withParameterField(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, byteIndex, bit);
    }

    /**
     * A reason with a field pointer into the parameter data (e.g. TOO MANY TARGET DESCRIPTORS, or
     * a COPY ABORTED pointing at the failing segment descriptor).
     */
    public static ScsiException withParameterField(SenseReason reason, int byteIndex, int bit) {
        return new ScsiException(reason, false, byteIndex, bit, 0, false, NO_PROGRESS);
    }

    /** A reason with a field pointer into the CDB (e.g. INVALID COMMAND OPERATION CODE on byte 0). */
    public static ScsiException withCdbField(SenseReason reason, int byteIndex, int bit) {
        return new ScsiException(reason, true, byteIndex, bit, 0, false, NO_PROGRESS);
    }

    /** A reason whose sense carries the INFORMATION field (e.g. the miscompare offset). */
    public static ScsiException withInformation(SenseReason reason, long information) {
        return new ScsiException(reason, false, NO_FIELD, NO_FIELD, information, true, NO_PROGRESS);
    }

    /**
     * A reason with a PROGRESS INDICATION (sense-key specific, SPC-4 4.5.2.4.4): how far an
     * operation such as a sanitize has got, as a fraction of 65536.
     */
    public static ScsiException withProgress(SenseReason reason, int progress) {
        return new ScsiException(reason, false, NO_FIELD, NO_FIELD, 0, false, Math.max(0, Math.min(0xFFFF, progress)));
    }

    /** Not a CHECK CONDITION: the command ends with status RESERVATION CONFLICT and no sense. */
    public static ScsiException reservationConflict() {
        return RESERVATION_CONFLICT;
    }

    public boolean isReservationConflict() {
        return reason == null;
    }

    /** The sense reason; null only for {@link #reservationConflict()}. */
    public SenseReason reason() { return reason; }
    public boolean hasFieldPointer() { return fieldByte != NO_FIELD; }
    public boolean fieldInCdb() { return inCdb; }
    public int fieldByte() { return fieldByte; }
    public int fieldBit() { return fieldBit; }
    public boolean informationValid() { return informationValid; }
    public boolean hasProgress() { return progress != NO_PROGRESS; }
    public int progress() { return progress; }
    public long information() { return information; }
}
