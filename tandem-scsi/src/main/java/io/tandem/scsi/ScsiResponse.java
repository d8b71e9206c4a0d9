package io.tandem.scsi;

import java.nio.ByteBuffer;

/**
 * The outcome of a task: SAM status, optional data-in (position..limit is what to send, already cut
 * to the CDB's allocation length) and optional sense bytes (fixed or descriptor format).
 */
public record ScsiResponse(int status, ByteBuffer dataIn, byte[] sense) {

    public static final int GOOD = 0x00;
    public static final int CHECK_CONDITION = 0x02;
    public static final int CONDITION_MET = 0x04;
    public static final int BUSY = 0x08;
    public static final int RESERVATION_CONFLICT = 0x18;
    public static final int TASK_SET_FULL = 0x28;
    public static final int ACA_ACTIVE = 0x30;
    public static final int TASK_ABORTED = 0x40;

    public static ScsiResponse good() {
        return new ScsiResponse(GOOD, null, null);
    }

    public static ScsiResponse good(ByteBuffer dataIn) {
        return new ScsiResponse(GOOD, dataIn, null);
    }

    public int dataInLength() {
        return dataIn == null ? 0 : dataIn.remaining();
    }
}
