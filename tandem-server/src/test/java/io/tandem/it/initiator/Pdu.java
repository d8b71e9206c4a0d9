package io.tandem.it.initiator;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One iSCSI PDU: the 48-byte basic header segment plus optional AHS and data segment.
 *
 * <p>Field offsets follow RFC 7143 section 11. Offsets that several PDU types share under different
 * names (bytes 20, 24, 28, 32, 36, 40, 44) get one constant each; the named accessors below pick the
 * meaning the caller has in mind. The header is mutable so raw-mode tests can forge any field.
 */
public final class Pdu {
    public static final int BHS_LENGTH = 48;
    public static final int RESERVED_TAG = 0xffffffff;

    public static final int OFF_OPCODE = 0;
    public static final int OFF_FLAGS = 1;
    public static final int OFF_BYTE2 = 2;
    public static final int OFF_BYTE3 = 3;
    public static final int OFF_TOTAL_AHS_LENGTH = 4;
    public static final int OFF_DATA_SEGMENT_LENGTH = 5;
    public static final int OFF_LUN = 8;
    public static final int OFF_ISID = 8;
    public static final int OFF_TSIH = 14;
    public static final int OFF_ITT = 16;
    public static final int OFF_WORD20 = 20; // TTT, Expected Data Transfer Length, Referenced Task Tag, CID
    public static final int OFF_WORD24 = 24; // CmdSN / StatSN
    public static final int OFF_WORD28 = 28; // ExpStatSN / ExpCmdSN
    public static final int OFF_WORD32 = 32; // MaxCmdSN / CDB start / RefCmdSN
    public static final int OFF_WORD36 = 36; // DataSN, R2TSN, ExpDataSN, Status-Class
    public static final int OFF_WORD40 = 40; // Buffer Offset, Bidi residual, Time2Wait
    public static final int OFF_WORD44 = 44; // Residual Count, Desired Data Transfer Length
    public static final int OFF_CDB = 32;

    public static final int FLAG_FINAL = 0x80;
    public static final int OPCODE_IMMEDIATE = 0x40;

    private final byte[] bhs;
    private byte[] ahs;
    private byte[] data;

    private Pdu(byte[] bhs, byte[] ahs, byte[] data) {
        this.bhs = bhs;
        this.ahs = ahs;
        this.data = data;
    }

    /** A fresh outbound PDU with the opcode set and everything else zero. */
    public static Pdu create(int opcode) {
        Pdu pdu = new Pdu(new byte[BHS_LENGTH], new byte[0], new byte[0]);
        pdu.bhs[OFF_OPCODE] = (byte) (opcode & 0x3f);
        return pdu;
    }

    /** Wraps bytes read off the wire; the header array is used as is. */
    public static Pdu wrap(byte[] bhs, byte[] ahs, byte[] data) {
        if (bhs.length != BHS_LENGTH) {
            throw new IllegalArgumentException("BHS must be 48 bytes, got " + bhs.length);
        }
        return new Pdu(bhs, ahs, data);
    }

    public byte[] bhs() { return bhs; }
    public byte[] ahs() { return ahs; }
    public byte[] data() { return data; }

    public Pdu ahs(byte[] ahs) {
        if (ahs.length % 4 != 0) {
            throw new IllegalArgumentException("AHS length must be a multiple of 4");
        }
        this.ahs = ahs;
        return this;
    }

    public Pdu data(byte[] data) {
        this.data = data;
        return this;
    }

    public int opcode() { return bhs[OFF_OPCODE] & 0x3f; }
    public boolean immediate() { return (bhs[OFF_OPCODE] & OPCODE_IMMEDIATE) != 0; }
    public Pdu immediate(boolean on) { return setBit(OFF_OPCODE, OPCODE_IMMEDIATE, on); }
    public int flags() { return bhs[OFF_FLAGS] & 0xff; }
    public Pdu flags(int flags) { bhs[OFF_FLAGS] = (byte) flags; return this; }
    public boolean isFinal() { return (flags() & FLAG_FINAL) != 0; }
    public Pdu setFinal(boolean on) { return setBit(OFF_FLAGS, FLAG_FINAL, on); }
    public int byte2() { return bhs[OFF_BYTE2] & 0xff; }
    public Pdu byte2(int v) { bhs[OFF_BYTE2] = (byte) v; return this; }
    public int byte3() { return bhs[OFF_BYTE3] & 0xff; }
    public Pdu byte3(int v) { bhs[OFF_BYTE3] = (byte) v; return this; }

    /** TotalAHSLength as written in the header, in 4-byte words. */
    public int totalAhsLengthField() { return bhs[OFF_TOTAL_AHS_LENGTH] & 0xff; }
    /** DataSegmentLength as written in the header (may differ from data().length for forged PDUs). */
    public int dataSegmentLengthField() { return uint24(OFF_DATA_SEGMENT_LENGTH); }

    /** Writes TotalAHSLength and DataSegmentLength from the attached segments. */
    public Pdu fillLengths() {
        bhs[OFF_TOTAL_AHS_LENGTH] = (byte) (ahs.length / 4);
        putUint24(OFF_DATA_SEGMENT_LENGTH, data.length);
        return this;
    }

    /** Forges DataSegmentLength independently of the attached data (raw-mode tests). */
    public Pdu dataSegmentLengthField(int length) {
        putUint24(OFF_DATA_SEGMENT_LENGTH, length);
        return this;
    }

    public long lun() { return getLong(OFF_LUN); }
    public Pdu lun(long lunField) { putLong(OFF_LUN, lunField); return this; }
    public int itt() { return getInt(OFF_ITT); }
    public Pdu itt(int itt) { return putInt(OFF_ITT, itt); }
    public int ttt() { return getInt(OFF_WORD20); }
    public Pdu ttt(int ttt) { return putInt(OFF_WORD20, ttt); }
    public int statSn() { return getInt(OFF_WORD24); }
    public int cmdSn() { return getInt(OFF_WORD24); }
    public Pdu cmdSn(int v) { return putInt(OFF_WORD24, v); }
    public int expCmdSn() { return getInt(OFF_WORD28); }
    public Pdu expStatSn(int v) { return putInt(OFF_WORD28, v); }
    public int maxCmdSn() { return getInt(OFF_WORD32); }
    public int word36() { return getInt(OFF_WORD36); }
    public int word40() { return getInt(OFF_WORD40); }
    public int word44() { return getInt(OFF_WORD44); }

    public int getInt(int offset) {
        return ((bhs[offset] & 0xff) << 24) | ((bhs[offset + 1] & 0xff) << 16)
                | ((bhs[offset + 2] & 0xff) << 8) | (bhs[offset + 3] & 0xff);
    }

    public Pdu putInt(int offset, int value) {
        bhs[offset] = (byte) (value >>> 24);
        bhs[offset + 1] = (byte) (value >>> 16);
        bhs[offset + 2] = (byte) (value >>> 8);
        bhs[offset + 3] = (byte) value;
        return this;
    }

    public int getShort(int offset) {
        return ((bhs[offset] & 0xff) << 8) | (bhs[offset + 1] & 0xff);
    }

    public Pdu putShort(int offset, int value) {
        bhs[offset] = (byte) (value >>> 8);
        bhs[offset + 1] = (byte) value;
        return this;
    }

    public long getLong(int offset) {
        return ((long) getInt(offset) << 32) | (getInt(offset + 4) & 0xffffffffL);
    }

    public Pdu putLong(int offset, long value) {
        putInt(offset, (int) (value >>> 32));
        return putInt(offset + 4, (int) value);
    }

    public Pdu putBytes(int offset, byte[] src) {
        System.arraycopy(src, 0, bhs, offset, src.length);
        return this;
    }

    public byte[] getBytes(int offset, int length) {
        return Arrays.copyOfRange(bhs, offset, offset + length);
    }

    private int uint24(int offset) {
        return ((bhs[offset] & 0xff) << 16) | ((bhs[offset + 1] & 0xff) << 8) | (bhs[offset + 2] & 0xff);
    }

    private void putUint24(int offset, int value) {
        if (value < 0 || value > 0xffffff) {
            throw new IllegalArgumentException("24-bit field out of range: " + value);
        }
        bhs[offset] = (byte) (value >>> 16);
        bhs[offset + 1] = (byte) (value >>> 8);
        bhs[offset + 2] = (byte) value;
    }

    private Pdu setBit(int offset, int mask, boolean on) {
        bhs[offset] = (byte) (on ? (bhs[offset] | mask) : (bhs[offset] & ~mask));
        return this;
    }

    @Override
    public String toString() {
        return Opcode.name(opcode()) + "{itt=" + Integer.toHexString(itt()) + ", flags=0x"
                + Integer.toHexString(flags()) + ", dsl=" + data.length + ", bhs="
                + HexFormat.of().formatHex(bhs) + "}";
    }
}
