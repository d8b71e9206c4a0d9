package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.CopyOperations;
import io.tandem.scsi.core.ScsiException;
import java.util.concurrent.CompletableFuture;

/**
 * RECEIVE COPY RESULTS (SPC-4 6.20, the LID1 service actions): COPY STATUS, RECEIVE DATA,
 * OPERATING PARAMETERS and FAILED SEGMENT DETAILS of the EXTENDED COPY commands this I_T nexus
 * sent to this LU. A list identifier with nothing recorded is INVALID FIELD IN CDB. Results of a
 * completed copy are dropped once reported: COPY STATUS of a successful copy, FAILED SEGMENT
 * DETAILS of a failed one.
 */
public final class ReceiveCopyResults {

    public static final byte COPY_STATUS = 0x00;
    public static final byte RECEIVE_DATA = 0x01;
    public static final byte OPERATING_PARAMETERS = 0x03;
    public static final byte FAILED_SEGMENT_DETAILS = 0x04;

    private static final int LIST_ID_BYTE = 2;
    private static final int ALLOCATION_LENGTH_BYTE = 10;
    /** TRANSFER COUNT UNITS: bytes, then powers of 1024 up to exbibytes. */
    private static final int MAX_TRANSFER_COUNT_UNIT = 6;
    private static final int FAILED_SEGMENT_HEADER = 60;

    private ReceiveCopyResults() {
    }

    private static long allocation(Command c) {
        return Bytes.u32(c.cdb(), ALLOCATION_LENGTH_BYTE);
    }

    private static CopyOperations.Snapshot recorded(Command c) {
        CopyOperations.Snapshot s = c.lu().copies().find(c.nexus(), Bytes.u8(c.cdb(), LIST_ID_BYTE));
        if (s == null) {
            throw ScsiException.invalidCdbField(LIST_ID_BYTE, 7);
        }
        return s;
    }

    public static CompletableFuture<ScsiResponse> copyStatus(Command c) {
        CopyOperations.Snapshot s = recorded(c);
        byte[] d = new byte[12];
        Bytes.putInt(d, 0, d.length - 4);
        d[4] = (byte) s.status();                 // HDD=0: no held data is ever discarded
        Bytes.putShort(d, 5, Math.min(0xFFFF, s.segmentsProcessed()));
        long count = s.bytesTransferred();
        int unit = 0;
        while (count > 0xFFFFFFFFL && unit < MAX_TRANSFER_COUNT_UNIT) {
            count >>>= 10;
            unit++;
        }
        d[7] = (byte) unit;
        Bytes.putInt(d, 8, count);
        if (s.status() == CopyOperations.STATUS_COMPLETED) {
            c.lu().copies().discard(c.nexus(), Bytes.u8(c.cdb(), LIST_ID_BYTE));
        }
        return c.dataIn(d, allocation(c));
    }

    /** No segment type this copy manager offers holds data, so there is never any to return. */
    public static CompletableFuture<ScsiResponse> receiveData(Command c) {
        recorded(c);
        return c.dataIn(new byte[4], allocation(c));
    }

    public static CompletableFuture<ScsiResponse> operatingParameters(Command c) {
        return c.dataIn(ThirdPartyCopy.operatingParameters(c.lu()), allocation(c));
    }

    public static CompletableFuture<ScsiResponse> failedSegmentDetails(Command c) {
        CopyOperations.Snapshot s = recorded(c);
        if (s.status() != CopyOperations.STATUS_COMPLETED_WITH_ERRORS) {
            // Still running, or completed without a failed segment: nothing to detail.
            return c.dataIn(new byte[4], allocation(c));
        }
        byte[] sense = s.sense() == null ? new byte[0] : s.sense();
        byte[] d = new byte[FAILED_SEGMENT_HEADER + sense.length];
        Bytes.putInt(d, 0, d.length - 4);
        d[56] = (byte) s.scsiStatus();             // EXTENDED COPY COMMAND STATUS
        Bytes.putShort(d, 58, sense.length);
        System.arraycopy(sense, 0, d, FAILED_SEGMENT_HEADER, sense.length);
        c.lu().copies().discard(c.nexus(), Bytes.u8(c.cdb(), LIST_ID_BYTE));
        return c.dataIn(d, allocation(c));
    }
}
