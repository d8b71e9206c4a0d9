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

    // ---- persistent reservations (SPC-4 6.16, 6.17)

    /** PERSISTENT RESERVE OUT with the basic 24-byte parameter list; returns the result whatever the status. */
    public ScsiResult persistentReserveOut(int serviceAction, int type, long key, long serviceActionKey, boolean aptpl)
            throws IOException {
        return session.execute(persistentReserveOutRequest(serviceAction, type, key, serviceActionKey, aptpl));
    }

    /** The PERSISTENT RESERVE OUT request {@link #persistentReserveOut} sends, to submit without waiting. */
    public ScsiRequest persistentReserveOutRequest(int serviceAction, int type, long key, long serviceActionKey,
                                                   boolean aptpl) {
        byte[] p = new byte[24];
        putLong(p, 0, key);
        putLong(p, 8, serviceActionKey);
        p[20] = (byte) (aptpl ? 0x01 : 0x00);
        byte[] cdb = new byte[10];
        cdb[0] = 0x5F;
        cdb[1] = (byte) (serviceAction & 0x1F);
        cdb[2] = (byte) (type & 0x0F);
        Cdbs.putInt(cdb, 5, p.length);
        return ScsiRequest.write(lun, cdb, p);
    }

    /** PERSISTENT RESERVE IN; returns the result whatever the status. */
    public ScsiResult persistentReserveIn(int serviceAction, int allocationLength) throws IOException {
        byte[] cdb = new byte[10];
        cdb[0] = 0x5E;
        cdb[1] = (byte) (serviceAction & 0x1F);
        cdb[7] = (byte) (allocationLength >>> 8);
        cdb[8] = (byte) allocationLength;
        return session.execute(ScsiRequest.read(lun, cdb, allocationLength));
    }

    /** READ KEYS: PRGENERATION and the registered keys in order. */
    public record ReservationKeys(long generation, List<Long> keys) {}

    /** READ RESERVATION: the reservation key and type, or {@code type == 0} when the LU is not reserved. */
    public record ReservationStatus(long generation, long key, int type) {
        public boolean reserved() { return type != 0; }
    }

    public ReservationKeys readKeys() throws IOException {
        byte[] d = persistentReserveIn(0x00, 8192).requireGood();
        long generation = Cdbs.getInt(d, 0) & 0xFFFFFFFFL;
        int length = Cdbs.getInt(d, 4);
        List<Long> keys = new ArrayList<>();
        for (int at = 8; at + 8 <= Math.min(d.length, 8 + length); at += 8) {
            keys.add(Cdbs.getLong(d, at));
        }
        return new ReservationKeys(generation, keys);
    }

    public ReservationStatus readReservation() throws IOException {
        byte[] d = persistentReserveIn(0x01, 8192).requireGood();
        long generation = Cdbs.getInt(d, 0) & 0xFFFFFFFFL;
        if (Cdbs.getInt(d, 4) < 16) {
            return new ReservationStatus(generation, 0, 0);
        }
        return new ReservationStatus(generation, Cdbs.getLong(d, 8), d[21] & 0x0F);
    }

    private static void putLong(byte[] b, int at, long v) {
        Cdbs.putInt(b, at, (int) (v >>> 32));
        Cdbs.putInt(b, at + 4, (int) v);
    }
}
