package io.tandem.scsi;

/** CDB builders for tests (independent of the target's table, so tests can catch table mistakes). */
final class Cdb {

    private Cdb() {
    }

    static byte[] of(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    static void put16(byte[] b, int at, long v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void put32(byte[] b, int at, long v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    static void put64(byte[] b, int at, long v) {
        put32(b, at, v >>> 32);
        put32(b, at + 4, v);
    }

    static byte[] testUnitReady() {
        return new byte[6];
    }

    static byte[] requestSense(int allocation) {
        return of(0x03, 0, 0, 0, allocation, 0);
    }

    static byte[] requestSenseDescriptor(int allocation) {
        return of(0x03, 1, 0, 0, allocation, 0);
    }

    static byte[] inquiry(boolean evpd, int page, int allocation) {
        byte[] c = of(0x12, evpd ? 1 : 0, page, 0, 0, 0);
        put16(c, 3, allocation);
        return c;
    }

    static byte[] reportLuns(int select, long allocation) {
        byte[] c = new byte[12];
        c[0] = (byte) 0xA0;
        c[2] = (byte) select;
        put32(c, 6, allocation);
        return c;
    }

    static byte[] readCapacity10() {
        return new byte[]{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    }

    static byte[] readCapacity16(int allocation) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x9E;
        c[1] = 0x10;
        put32(c, 10, allocation);
        return c;
    }

    static byte[] read6(long lba, int blocks) {
        return of(0x08, (int) (lba >>> 16) & 0x1F, (int) (lba >>> 8) & 0xFF, (int) lba & 0xFF, blocks & 0xFF, 0);
    }

    static byte[] write6(long lba, int blocks) {
        byte[] c = read6(lba, blocks);
        c[0] = 0x0A;
        return c;
    }

    static byte[] rw10(int opcode, long lba, int blocks, int flags) {
        byte[] c = new byte[10];
        c[0] = (byte) opcode;
        c[1] = (byte) flags;
        put32(c, 2, lba);
        put16(c, 7, blocks);
        return c;
    }

    static byte[] rw12(int opcode, long lba, long blocks, int flags) {
        byte[] c = new byte[12];
        c[0] = (byte) opcode;
        c[1] = (byte) flags;
        put32(c, 2, lba);
        put32(c, 6, blocks);
        return c;
    }

    static byte[] rw16(int opcode, long lba, long blocks, int flags) {
        byte[] c = new byte[16];
        c[0] = (byte) opcode;
        c[1] = (byte) flags;
        put64(c, 2, lba);
        put32(c, 10, blocks);
        return c;
    }

    static byte[] read10(long lba, int blocks) {
        return rw10(0x28, lba, blocks, 0);
    }

    static byte[] write10(long lba, int blocks) {
        return rw10(0x2A, lba, blocks, 0);
    }

    static byte[] read16(long lba, long blocks) {
        return rw16(0x88, lba, blocks, 0);
    }

    static byte[] write16(long lba, long blocks) {
        return rw16(0x8A, lba, blocks, 0);
    }

    static byte[] modeSense6(boolean dbd, int pc, int page, int subpage, int allocation) {
        return of(0x1A, dbd ? 0x08 : 0, (pc << 6) | page, subpage, allocation, 0);
    }

    static byte[] modeSense10(boolean llbaa, boolean dbd, int pc, int page, int subpage, int allocation) {
        byte[] c = of(0x5A, (llbaa ? 0x10 : 0) | (dbd ? 0x08 : 0), (pc << 6) | page, subpage, 0, 0, 0, 0, 0, 0);
        put16(c, 7, allocation);
        return c;
    }

    static byte[] modeSelect6(boolean pf, boolean sp, int length) {
        return of(0x15, (pf ? 0x10 : 0) | (sp ? 1 : 0), 0, 0, length, 0);
    }

    static byte[] modeSelect10(boolean pf, int length) {
        byte[] c = of(0x55, pf ? 0x10 : 0, 0, 0, 0, 0, 0, 0, 0, 0);
        put16(c, 7, length);
        return c;
    }

    static byte[] reportSupportedOpcodes(boolean rctd, int options, int opcode, int serviceAction, long allocation) {
        byte[] c = new byte[12];
        c[0] = (byte) 0xA3;
        c[1] = 0x0C;
        c[2] = (byte) ((rctd ? 0x80 : 0) | options);
        c[3] = (byte) opcode;
        put16(c, 4, serviceAction);
        put32(c, 6, allocation);
        return c;
    }
}
