package io.tandem.it.initiator;

/** CDB builders for the commands the tests use (SPC-4 / SBC-4 layouts). */
public final class Cdbs {
    private Cdbs() {}

    public static final int TEST_UNIT_READY = 0x00;
    public static final int REQUEST_SENSE = 0x03;
    public static final int INQUIRY = 0x12;
    public static final int READ_10 = 0x28;
    public static final int WRITE_10 = 0x2a;
    public static final int READ_16 = 0x88;
    public static final int WRITE_16 = 0x8a;
    public static final int SERVICE_ACTION_IN_16 = 0x9e;
    public static final int SA_READ_CAPACITY_16 = 0x10;
    public static final int REPORT_LUNS = 0xa0;

    public static byte[] testUnitReady() {
        return new byte[6];
    }

    public static byte[] requestSense(int allocationLength, boolean descriptorFormat) {
        byte[] cdb = new byte[6];
        cdb[0] = (byte) REQUEST_SENSE;
        cdb[1] = (byte) (descriptorFormat ? 1 : 0);
        cdb[4] = (byte) allocationLength;
        return cdb;
    }

    public static byte[] inquiry(boolean evpd, int page, int allocationLength) {
        byte[] cdb = new byte[6];
        cdb[0] = (byte) INQUIRY;
        cdb[1] = (byte) (evpd ? 1 : 0);
        cdb[2] = (byte) page;
        putShort(cdb, 3, allocationLength);
        return cdb;
    }

    public static byte[] readCapacity16(int allocationLength) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) SERVICE_ACTION_IN_16;
        cdb[1] = SA_READ_CAPACITY_16;
        putInt(cdb, 10, allocationLength);
        return cdb;
    }

    public static byte[] read10(long lba, int blocks) {
        return rw10(READ_10, lba, blocks);
    }

    public static byte[] write10(long lba, int blocks) {
        return rw10(WRITE_10, lba, blocks);
    }

    public static byte[] read16(long lba, int blocks) {
        return rw16(READ_16, lba, blocks);
    }

    public static byte[] write16(long lba, int blocks) {
        return rw16(WRITE_16, lba, blocks);
    }

    public static byte[] reportLuns(int allocationLength) {
        byte[] cdb = new byte[12];
        cdb[0] = (byte) REPORT_LUNS;
        putInt(cdb, 6, allocationLength);
        return cdb;
    }

    private static byte[] rw10(int opcode, long lba, int blocks) {
        if (lba < 0 || lba > 0xffffffffL || blocks < 0 || blocks > 0xffff) {
            throw new IllegalArgumentException("out of 10-byte CDB range");
        }
        byte[] cdb = new byte[10];
        cdb[0] = (byte) opcode;
        putInt(cdb, 2, (int) lba);
        putShort(cdb, 7, blocks);
        return cdb;
    }

    private static byte[] rw16(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        putInt(cdb, 2, (int) (lba >>> 32));
        putInt(cdb, 6, (int) lba);
        putInt(cdb, 10, blocks);
        return cdb;
    }

    static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static int getInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    static long getLong(byte[] b, int at) {
        return ((long) getInt(b, at) << 32) | (getInt(b, at + 4) & 0xffffffffL);
    }
}
