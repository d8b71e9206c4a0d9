package io.tandem.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Flyweight over an iSCSI Basic Header Segment (RFC 7143 §11.2.1): 48 bytes, big-endian.
 *
 * <pre>
 *  byte  0: . I opcode(6)        1: opcode-specific flags (F = 0x80)   2-3: opcode-specific
 *  byte  4: TotalAHSLength (4-byte words)      5-7: DataSegmentLength (bytes, 24 bits)
 *  byte  8-15: LUN or opcode-specific
 *  byte 16-19: Initiator Task Tag
 *  byte 20-47: opcode-specific: the constants below name the fields each opcode puts there
 * </pre>
 *
 * One instance is reused per connection direction: {@link #wrap} points it at a buffer without
 * copying, so reading or writing a header allocates nothing.
 */
public final class Bhs {

    public static final int LENGTH = 48;

    public static final int OFFSET_OPCODE = 0;
    public static final int OFFSET_FLAGS = 1;
    public static final int OFFSET_BYTE2 = 2;
    public static final int OFFSET_BYTE3 = 3;
    public static final int OFFSET_TOTAL_AHS_LENGTH = 4;
    public static final int OFFSET_DATA_SEGMENT_LENGTH = 5;
    public static final int OFFSET_LUN = 8;
    public static final int OFFSET_ITT = 16;
    public static final int OFFSET_20 = 20;
    public static final int OFFSET_24 = 24;
    public static final int OFFSET_28 = 28;
    public static final int OFFSET_32 = 32;
    public static final int OFFSET_36 = 36;
    public static final int OFFSET_40 = 40;
    public static final int OFFSET_44 = 44;

    // Field names per opcode, mapped to the generic offsets above.
    /** SCSI Command: Expected Data Transfer Length. Data-Out/Data-In/R2T/NOP/Text: Target Transfer Tag. */
    public static final int OFFSET_EDTL_OR_TTT = OFFSET_20;
    /** Requests: CmdSN. Responses: StatSN. */
    public static final int OFFSET_CMDSN_OR_STATSN = OFFSET_24;
    /** Requests: ExpStatSN. Responses: ExpCmdSN. */
    public static final int OFFSET_EXPSTATSN_OR_EXPCMDSN = OFFSET_28;
    /** Responses: MaxCmdSN. */
    public static final int OFFSET_MAXCMDSN = OFFSET_32;
    /** SCSI Command: CDB (16 bytes). */
    public static final int OFFSET_CDB = OFFSET_32;
    public static final int CDB_LENGTH = 16;
    /** Data-In/Data-Out: DataSN. R2T: R2TSN. SCSI Response: ExpDataSN. */
    public static final int OFFSET_DATASN = OFFSET_36;
    /** Data-In/Data-Out/R2T: Buffer Offset. */
    public static final int OFFSET_BUFFER_OFFSET = OFFSET_40;
    /** Data-In/SCSI Response: Residual Count. R2T: Desired Data Transfer Length. */
    public static final int OFFSET_RESIDUAL_OR_DESIRED_LENGTH = OFFSET_44;

    public static final int FLAG_IMMEDIATE = 0x40;
    public static final int FLAG_FINAL = 0x80;
    public static final int MAX_DATA_SEGMENT_LENGTH = (1 << 24) - 1;
    public static final int RESERVED_TAG = 0xffffffff;

    private ByteBuffer buffer;
    private int base;

    public Bhs wrap(ByteBuffer buffer, int offset) {
        this.buffer = buffer;
        this.base = offset;
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    /** Zeroes the 48 bytes, for building a new PDU. */
    public Bhs clear() {
        for (int i = 0; i < LENGTH; i += 8) {
            buffer.putLong(base + i, 0L);
        }
        return this;
    }

    public int opcode() {
        return buffer.get(base) & 0x3f;
    }

    public boolean immediate() {
        return (buffer.get(base) & FLAG_IMMEDIATE) != 0;
    }

    public Bhs opcode(int opcode) {
        buffer.put(base, (byte) (opcode & 0x3f));
        return this;
    }

    public int flags() {
        return buffer.get(base + OFFSET_FLAGS) & 0xff;
    }

    public Bhs flags(int flags) {
        buffer.put(base + OFFSET_FLAGS, (byte) flags);
        return this;
    }

    public boolean finalFlag() {
        return (flags() & FLAG_FINAL) != 0;
    }

    public int byte2() {
        return buffer.get(base + OFFSET_BYTE2) & 0xff;
    }

    public Bhs byte2(int value) {
        buffer.put(base + OFFSET_BYTE2, (byte) value);
        return this;
    }

    public int byte3() {
        return buffer.get(base + OFFSET_BYTE3) & 0xff;
    }

    public Bhs byte3(int value) {
        buffer.put(base + OFFSET_BYTE3, (byte) value);
        return this;
    }

    /** Total AHS length in bytes (the field counts 4-byte words). */
    public int totalAhsLength() {
        return (buffer.get(base + OFFSET_TOTAL_AHS_LENGTH) & 0xff) * 4;
    }

    public int dataSegmentLength() {
        return ((buffer.get(base + 5) & 0xff) << 16) | ((buffer.get(base + 6) & 0xff) << 8) | (buffer.get(base + 7) & 0xff);
    }

    public Bhs dataSegmentLength(int length) {
        if (length < 0 || length > MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("data segment length " + length);
        }
        buffer.put(base + 5, (byte) (length >>> 16));
        buffer.put(base + 6, (byte) (length >>> 8));
        buffer.put(base + 7, (byte) length);
        return this;
    }

    public long lun() {
        return buffer.getLong(base + OFFSET_LUN);
    }

    public Bhs lun(long lun) {
        buffer.putLong(base + OFFSET_LUN, lun);
        return this;
    }

    public int itt() {
        return buffer.getInt(base + OFFSET_ITT);
    }

    public Bhs itt(int itt) {
        buffer.putInt(base + OFFSET_ITT, itt);
        return this;
    }

    public int int32(int offset) {
        return buffer.getInt(base + offset);
    }

    public Bhs int32(int offset, int value) {
        buffer.putInt(base + offset, value);
        return this;
    }

    public long uint32(int offset) {
        return buffer.getInt(base + offset) & 0xffffffffL;
    }

    public int uint16(int offset) {
        return buffer.getShort(base + offset) & 0xffff;
    }

    public Bhs uint16(int offset, int value) {
        buffer.putShort(base + offset, (short) value);
        return this;
    }

    /** The 48-bit ISID of Login/Logout PDUs (bytes 8-13). */
    public long isid() {
        return ((long) (buffer.getShort(base + 8) & 0xffff) << 32) | (buffer.getInt(base + 10) & 0xffffffffL);
    }

    public Bhs isid(long isid) {
        buffer.putShort(base + 8, (short) (isid >>> 32));
        buffer.putInt(base + 10, (int) isid);
        return this;
    }

    public void copyCdb(byte[] into) {
        buffer.get(base + OFFSET_CDB, into, 0, CDB_LENGTH);
    }

    public void copyTo(byte[] into) {
        buffer.get(base, into, 0, LENGTH);
    }

    /** Serial number arithmetic (RFC 1982, 32 bits): a < b. */
    public static boolean serialLess(int a, int b) {
        return a != b && (a - b) < 0;
    }
}
