package io.tandem.it.initiator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Convenience SCSI helpers for one LUN of a session. Data helpers throw unless status is GOOD. */
public final class ScsiDevice {
    private final IscsiSession session;
    private final int lun;
    private int blockSize;

    ScsiDevice(IscsiSession session, int lun) {
        this.session = session;
        this.lun = lun;
    }

    public int lun() { return lun; }
    public IscsiSession session() { return session; }

    /** READ CAPACITY (16) result. */
    public record Capacity(long lastLba, int blockSize, long blocks) {}

    /** Standard INQUIRY fields tests look at. */
    public record Inquiry(int peripheralQualifier, int deviceType, int version, String vendor, String product,
                          String revision, byte[] raw) {}

    public ScsiResult testUnitReady() throws IOException {
        return session.execute(ScsiRequest.none(lun, Cdbs.testUnitReady()));
    }

    public Inquiry inquiry() throws IOException {
        byte[] d = session.execute(ScsiRequest.read(lun, Cdbs.inquiry(false, 0, 96), 96)).requireGood();
        if (d.length < 36) {
            throw new ProtocolViolationException("standard INQUIRY data shorter than 36 bytes: " + d.length);
        }
        return new Inquiry((d[0] & 0xe0) >> 5, d[0] & 0x1f, d[2] & 0xff,
                ascii(d, 8, 8), ascii(d, 16, 16), ascii(d, 32, 4), d);
    }

    public byte[] inquiryVpd(int page, int allocationLength) throws IOException {
        return session.execute(ScsiRequest.read(lun, Cdbs.inquiry(true, page, allocationLength), allocationLength))
                .requireGood();
    }

    public Capacity readCapacity16() throws IOException {
        byte[] d = session.execute(ScsiRequest.read(lun, Cdbs.readCapacity16(32), 32)).requireGood();
        if (d.length < 12) {
            throw new ProtocolViolationException("READ CAPACITY (16) data shorter than 12 bytes");
        }
        long lastLba = Cdbs.getLong(d, 0);
        int bs = Cdbs.getInt(d, 8);
        this.blockSize = bs;
        return new Capacity(lastLba, bs, lastLba + 1);
    }

    public int blockSize() throws IOException {
        if (blockSize == 0) {
            readCapacity16();
        }
        return blockSize;
    }

    public byte[] read10(long lba, int blocks) throws IOException {
        return session.execute(read10Request(lba, blocks)).requireGood();
    }

    public byte[] read16(long lba, int blocks) throws IOException {
        return session.execute(read16Request(lba, blocks)).requireGood();
    }

    public void write10(long lba, byte[] data) throws IOException {
        session.execute(write10Request(lba, data)).requireGood();
    }

    public void write16(long lba, byte[] data) throws IOException {
        session.execute(write16Request(lba, data)).requireGood();
    }

    public ScsiRequest read10Request(long lba, int blocks) throws IOException {
        return ScsiRequest.read(lun, Cdbs.read10(lba, blocks), blocks * blockSize());
    }

    public ScsiRequest read16Request(long lba, int blocks) throws IOException {
        return ScsiRequest.read(lun, Cdbs.read16(lba, blocks), blocks * blockSize());
    }

    public ScsiRequest write10Request(long lba, byte[] data) throws IOException {
        return ScsiRequest.write(lun, Cdbs.write10(lba, blocks(data)), data);
    }

    public ScsiRequest write16Request(long lba, byte[] data) throws IOException {
        return ScsiRequest.write(lun, Cdbs.write16(lba, blocks(data)), data);
    }

    /** REPORT LUNS: the LUN numbers listed. */
    public List<Integer> reportLuns() throws IOException {
        byte[] d = session.execute(ScsiRequest.read(lun, Cdbs.reportLuns(4096), 4096)).requireGood();
        int listLength = Cdbs.getInt(d, 0);
        List<Integer> luns = new ArrayList<>();
        for (int at = 8; at + 8 <= Math.min(d.length, 8 + listLength); at += 8) {
            luns.add(Lun.decode(Cdbs.getLong(d, at)));
        }
        return luns;
    }

    /** REQUEST SENSE; returns the decoded sense (NO SENSE when nothing is pending). */
    public Sense requestSense(boolean descriptorFormat) throws IOException {
        byte[] d = session.execute(ScsiRequest.read(lun, Cdbs.requestSense(252, descriptorFormat), 252)).requireGood();
        return Sense.decode(d);
    }

    private int blocks(byte[] data) throws IOException {
        int bs = blockSize();
        if (data.length % bs != 0) {
            throw new IllegalArgumentException(data.length + " bytes is not a whole number of " + bs + "-byte blocks");
        }
        return data.length / bs;
    }

    private static String ascii(byte[] d, int at, int len) {
        return new String(d, at, len, StandardCharsets.US_ASCII).trim();
    }
}
