package io.tandem.scsi;

import java.io.ByteArrayOutputStream;

/** Builds EXTENDED COPY(LID1) parameter lists for tests, independently of the target's parser. */
final class XcopyList {

    private final ByteArrayOutputStream cscds = new ByteArrayOutputStream();
    private final ByteArrayOutputStream segments = new ByteArrayOutputStream();
    private int listId = 1;
    private int usage = 0b10; // do not hold results unless asked

    XcopyList listId(int id, int listIdUsage) {
        this.listId = id;
        this.usage = listIdUsage;
        return this;
    }

    /** An identification CSCD descriptor (E4h) naming an LU by its NAA designator. */
    XcopyList identification(byte[] naa, int blockLength) {
        byte[] d = new byte[32];
        d[0] = (byte) 0xE4;
        d[4] = 0x01;              // code set: binary
        d[5] = 0x03;              // association LU, designator type NAA
        d[7] = (byte) naa.length;
        System.arraycopy(naa, 0, d, 8, naa.length);
        d[29] = (byte) (blockLength >>> 16);
        d[30] = (byte) (blockLength >>> 8);
        d[31] = (byte) blockLength;
        cscds.writeBytes(d);
        return this;
    }

    XcopyList rawCscd(byte[] d) {
        cscds.writeBytes(d);
        return this;
    }

    /** A block-to-block segment descriptor (02h). */
    XcopyList blockToBlock(int source, int destination, int blocks, long sourceLba, long destinationLba) {
        byte[] d = new byte[28];
        d[0] = 0x02;
        d[3] = 0x18;
        Cdb.put16(d, 4, source);
        Cdb.put16(d, 6, destination);
        Cdb.put16(d, 10, blocks);
        Cdb.put64(d, 12, sourceLba);
        Cdb.put64(d, 20, destinationLba);
        segments.writeBytes(d);
        return this;
    }

    XcopyList rawSegment(byte[] d) {
        segments.writeBytes(d);
        return this;
    }

    int cscdBytes() {
        return cscds.size();
    }

    byte[] build() {
        byte[] c = cscds.toByteArray();
        byte[] s = segments.toByteArray();
        byte[] list = new byte[16 + c.length + s.length];
        list[0] = (byte) listId;
        list[1] = (byte) (usage << 3);
        Cdb.put16(list, 2, c.length);
        Cdb.put32(list, 8, s.length);
        System.arraycopy(c, 0, list, 16, c.length);
        System.arraycopy(s, 0, list, 16 + c.length, s.length);
        return list;
    }

    static byte[] cdb(int parameterListLength) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x83;
        Cdb.put32(c, 10, parameterListLength);
        return c;
    }

    static byte[] receiveCopyResults(int serviceAction, int listId, int allocation) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x84;
        c[1] = (byte) serviceAction;
        c[2] = (byte) listId;
        Cdb.put32(c, 10, allocation);
        return c;
    }
}
