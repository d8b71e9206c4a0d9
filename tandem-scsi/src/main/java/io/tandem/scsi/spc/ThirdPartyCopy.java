package io.tandem.scsi.spc;

import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.CopyOperations;
import io.tandem.scsi.core.LogicalUnit;
import java.io.ByteArrayOutputStream;

/**
 * What the copy manager of every LU offers (SPC-4 EXTENDED COPY(LID1)), in one place so the
 * Third-party Copy VPD page, RECEIVE COPY RESULTS OPERATING PARAMETERS and the EXTENDED COPY
 * parser cannot disagree: identification CSCD descriptors (E4h) naming any LU of this target by its
 * NAA designator, and block-to-block segment descriptors (02h). No inline or held data, no
 * stream devices.
 */
public final class ThirdPartyCopy {

    public static final int CSCD_IDENTIFICATION = 0xE4;
    public static final int SEGMENT_BLOCK_TO_BLOCK = 0x02;
    static final int[] IMPLEMENTED_DESCRIPTORS = {SEGMENT_BLOCK_TO_BLOCK, CSCD_IDENTIFICATION};

    public static final int CSCD_DESCRIPTOR_LENGTH = 32;
    public static final int BLOCK_TO_BLOCK_LENGTH = 28;
    public static final int MAX_CSCD_DESCRIPTORS = 16;
    public static final int MAX_SEGMENT_DESCRIPTORS = 64;
    /** Room for the largest lists of both kinds, and no more. */
    public static final int MAX_DESCRIPTOR_LIST_LENGTH =
            MAX_CSCD_DESCRIPTORS * CSCD_DESCRIPTOR_LENGTH + MAX_SEGMENT_DESCRIPTORS * BLOCK_TO_BLOCK_LENGTH;
    /** A block-to-block segment counts blocks in 16 bits. */
    public static final int MAX_SEGMENT_BLOCKS = 0xFFFF;

    private ThirdPartyCopy() {
    }

    static long maxSegmentBytes(LogicalUnit lu) {
        return (long) MAX_SEGMENT_BLOCKS * lu.blockSize();
    }

    /** RECEIVE COPY RESULTS, OPERATING PARAMETERS (SPC-4 6.20.4). */
    static byte[] operatingParameters(LogicalUnit lu) {
        byte[] d = new byte[44 + IMPLEMENTED_DESCRIPTORS.length];
        Bytes.putInt(d, 0, d.length - 4);                         // AVAILABLE DATA
        d[4] = 0x01;                                               // SNLID: LIST ID USAGE 11b supported
        Bytes.putShort(d, 8, MAX_CSCD_DESCRIPTORS);
        Bytes.putShort(d, 10, MAX_SEGMENT_DESCRIPTORS);
        Bytes.putInt(d, 12, MAX_DESCRIPTOR_LIST_LENGTH);
        Bytes.putInt(d, 16, maxSegmentBytes(lu));                  // MAXIMUM SEGMENT LENGTH
        // MAXIMUM INLINE DATA LENGTH, HELD DATA LIMIT, MAXIMUM STREAM DEVICE TRANSFER SIZE: 0
        Bytes.putShort(d, 34, CopyOperations.MAX_CONCURRENT);     // TOTAL CONCURRENT COPIES
        d[36] = (byte) CopyOperations.MAX_CONCURRENT;              // MAXIMUM CONCURRENT COPIES
        d[37] = (byte) Integer.numberOfTrailingZeros(lu.blockSize()); // DATA SEGMENT GRANULARITY (log2 bytes)
        d[43] = (byte) IMPLEMENTED_DESCRIPTORS.length;
        for (int i = 0; i < IMPLEMENTED_DESCRIPTORS.length; i++) {
            d[44 + i] = (byte) IMPLEMENTED_DESCRIPTORS[i];
        }
        return d;
    }

    /** The Third-party Copy VPD page's descriptors (SPC-4 7.8.17), without the page header. */
    static byte[] vpdDescriptors(LogicalUnit lu) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        // 0001h Supported Commands: EXTENDED COPY(LID1) and the RECEIVE COPY RESULTS it uses.
        byte[] commands = {
                (byte) 0x83, 1, 0x00,
                (byte) 0x84, 4, ReceiveCopyResults.COPY_STATUS, ReceiveCopyResults.RECEIVE_DATA,
                ReceiveCopyResults.OPERATING_PARAMETERS, ReceiveCopyResults.FAILED_SEGMENT_DETAILS};
        byte[] supported = new byte[1 + commands.length];
        supported[0] = (byte) commands.length;
        System.arraycopy(commands, 0, supported, 1, commands.length);
        descriptor(out, 0x0001, supported);
        // 0004h Parameter Data.
        byte[] parameters = new byte[28];
        Bytes.putShort(parameters, 4, MAX_CSCD_DESCRIPTORS);
        Bytes.putShort(parameters, 6, MAX_SEGMENT_DESCRIPTORS);
        Bytes.putInt(parameters, 8, MAX_DESCRIPTOR_LIST_LENGTH);
        descriptor(out, 0x0004, parameters);
        // 0008h Supported Descriptors.
        byte[] descriptors = new byte[1 + IMPLEMENTED_DESCRIPTORS.length];
        descriptors[0] = (byte) IMPLEMENTED_DESCRIPTORS.length;
        for (int i = 0; i < IMPLEMENTED_DESCRIPTORS.length; i++) {
            descriptors[1 + i] = (byte) IMPLEMENTED_DESCRIPTORS[i];
        }
        descriptor(out, 0x0008, descriptors);
        // 000Ch Supported CSCD Descriptor IDs: none beyond indexes into the CSCD list.
        descriptor(out, 0x000C, new byte[2]);
        // 8001h General Copy Operations.
        byte[] general = new byte[32];
        Bytes.putInt(general, 0, CopyOperations.MAX_CONCURRENT);  // TOTAL CONCURRENT COPIES
        Bytes.putInt(general, 4, CopyOperations.MAX_CONCURRENT);  // MAXIMUM IDENTIFIED CONCURRENT COPIES
        Bytes.putInt(general, 8, maxSegmentBytes(lu));            // MAXIMUM SEGMENT LENGTH (bytes)
        // DATA / INLINE DATA SEGMENT GRANULARITY: 0 = any whole number of logical blocks
        descriptor(out, 0x8001, general);
        return out.toByteArray();
    }

    /** One third-party copy descriptor: type, length, body padded to a multiple of four bytes. */
    private static void descriptor(ByteArrayOutputStream out, int type, byte[] body) {
        int padded = (body.length + 3) & ~3;
        out.write(type >>> 8);
        out.write(type);
        out.write(padded >>> 8);
        out.write(padded);
        out.writeBytes(body);
        out.writeBytes(new byte[padded - body.length]);
    }
}
