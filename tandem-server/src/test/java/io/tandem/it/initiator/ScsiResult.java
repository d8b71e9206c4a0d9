package io.tandem.it.initiator;

/**
 * Completion of one SCSI command.
 *
 * @param response        iSCSI Response field (0 = command completed at target); from the SCSI Response
 * @param status          SCSI status byte
 * @param data            Data-In bytes received (length = bytes actually delivered)
 * @param sense           decoded sense data, null if none
 * @param underflow       U bit
 * @param overflow        O bit
 * @param residualCount   Residual Count field
 * @param dataInPdus      number of Data-In PDUs received
 * @param r2ts            number of R2Ts answered
 * @param statusInDataIn  status arrived in the final Data-In (phase collapse)
 * @param cmdSn           CmdSN the command was sent with
 */
public record ScsiResult(int response, int status, byte[] data, Sense sense, boolean underflow, boolean overflow,
                         int residualCount, int dataInPdus, int r2ts, boolean statusInDataIn, int cmdSn) {
    public static final int GOOD = 0x00;
    public static final int CHECK_CONDITION = 0x02;
    public static final int CONDITION_MET = 0x04;
    public static final int BUSY = 0x08;
    public static final int RESERVATION_CONFLICT = 0x18;
    public static final int TASK_SET_FULL = 0x28;
    public static final int ACA_ACTIVE = 0x30;
    public static final int TASK_ABORTED = 0x40;

    public boolean isGood() {
        return response == 0 && status == GOOD;
    }

    /** Returns the data, or throws describing status and sense if the command did not succeed. */
    public byte[] requireGood() {
        if (!isGood()) {
            throw new ScsiStatusException(this);
        }
        return data;
    }

    @Override
    public String toString() {
        return String.format("ScsiResult{response=%d, status=0x%02x, data=%d bytes, sense=%s, U=%b, O=%b, residual=%d,"
                        + " dataIn=%d, r2t=%d, collapsed=%b}", response, status, data.length, sense, underflow, overflow,
                residualCount, dataInPdus, r2ts, statusInDataIn);
    }

    /** A command the caller expected to succeed did not. */
    public static final class ScsiStatusException extends RuntimeException {
        private final ScsiResult result;

        public ScsiStatusException(ScsiResult result) {
            super("SCSI command failed: " + result);
            this.result = result;
        }

        public ScsiResult result() { return result; }
    }
}
