package io.tandem.scsi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE builders and parsers for tests, written from SPC-4. */
final class Pr {

    static final int WE = 1, EA = 3, WE_RO = 5, EA_RO = 6, WE_AR = 7, EA_AR = 8;
    static final int[] ALL_TYPES = {WE, EA, WE_RO, EA_RO, WE_AR, EA_AR};

    static final int REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5,
            REGISTER_AND_IGNORE = 6, REGISTER_AND_MOVE = 7;
    static final int READ_KEYS = 0, READ_RESERVATION = 1, REPORT_CAPABILITIES = 2, READ_FULL_STATUS = 3;

    static final int SPEC_I_PT = 0x08, ALL_TG_PT = 0x04, APTPL = 0x01;

    private Pr() {
    }

    static byte[] in(int serviceAction, int allocation) {
        byte[] c = Cdb.of(0x5E, serviceAction, 0, 0, 0, 0, 0, 0, 0, 0);
        Cdb.put16(c, 7, allocation);
        return c;
    }

    static byte[] out(int serviceAction, int type, int parameterListLength) {
        byte[] c = Cdb.of(0x5F, serviceAction, type, 0, 0, 0, 0, 0, 0, 0);
        Cdb.put32(c, 5, parameterListLength);
        return c;
    }

    /** The basic 24-byte parameter list, plus TransportIDs when SPEC_I_PT is set. */
    static byte[] parameters(long key, long serviceActionKey, int flags, byte[]... transportIds) {
        ByteArrayOutputStream ids = new ByteArrayOutputStream();
        for (byte[] id : transportIds) {
            ids.writeBytes(id);
        }
        boolean spec = (flags & SPEC_I_PT) != 0;
        byte[] p = new byte[24 + (spec ? 4 + ids.size() : 0)];
        Cdb.put64(p, 0, key);
        Cdb.put64(p, 8, serviceActionKey);
        p[20] = (byte) flags;
        if (spec) {
            Cdb.put32(p, 24, ids.size());
            System.arraycopy(ids.toByteArray(), 0, p, 28, ids.size());
        }
        return p;
    }

    static byte[] moveParameters(long key, long serviceActionKey, boolean unregister, boolean aptpl,
                                 int relativeTargetPort, byte[] transportId) {
        byte[] p = new byte[24 + transportId.length];
        Cdb.put64(p, 0, key);
        Cdb.put64(p, 8, serviceActionKey);
        p[17] = (byte) ((unregister ? 2 : 0) | (aptpl ? 1 : 0));
        Cdb.put16(p, 18, relativeTargetPort);
        Cdb.put32(p, 20, transportId.length);
        System.arraycopy(transportId, 0, p, 24, transportId.length);
        return p;
    }

    /** iSCSI TransportID: format 01b (port, with ISID) when {@code isid} is not null, else 00b (device). */
    static byte[] transportId(String name, Long isid) {
        String text = isid == null ? name : name + ",i,0x" + String.format("%012x", isid);
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        int additional = Math.max(20, (t.length + 1 + 3) / 4 * 4);
        byte[] id = new byte[4 + additional];
        id[0] = (byte) ((isid == null ? 0x00 : 0x40) | 0x05);
        Cdb.put16(id, 2, additional);
        System.arraycopy(t, 0, id, 4, t.length);
        return id;
    }

    static Initiator.Result register(Initiator i, long key, long newKey, int flags) {
        return outCommand(i, REGISTER, 0, parameters(key, newKey, flags));
    }

    static Initiator.Result registerAndIgnore(Initiator i, long newKey, int flags) {
        return outCommand(i, REGISTER_AND_IGNORE, 0, parameters(0, newKey, flags));
    }

    static Initiator.Result reserve(Initiator i, long key, int type) {
        return outCommand(i, RESERVE, type, parameters(key, 0, 0));
    }

    static Initiator.Result release(Initiator i, long key, int type) {
        return outCommand(i, RELEASE, type, parameters(key, 0, 0));
    }

    static Initiator.Result clear(Initiator i, long key) {
        return outCommand(i, CLEAR, 0, parameters(key, 0, 0));
    }

    static Initiator.Result preempt(Initiator i, long key, long victimKey, int type) {
        return outCommand(i, PREEMPT, type, parameters(key, victimKey, 0));
    }

    static Initiator.Result outCommand(Initiator i, int serviceAction, int type, byte[] parameters) {
        return i.sendOut(0, out(serviceAction, type, parameters.length), parameters);
    }

    /** READ KEYS: generation followed by the keys. */
    record Keys(long generation, List<Long> keys) {
    }

    static Keys readKeys(Initiator i) {
        Initiator.Result r = i.send(0, in(READ_KEYS, 8192));
        if (!r.good()) {
            throw new AssertionError("READ KEYS failed: " + r);
        }
        byte[] d = r.data();
        List<Long> keys = new ArrayList<>();
        long length = u32(d, 4);
        for (int at = 8; at < 8 + length; at += 8) {
            keys.add(u64(d, at));
        }
        return new Keys(u32(d, 0), keys);
    }

    /** READ RESERVATION: null when there is none. */
    record Reservation(long key, int type) {
    }

    static Reservation readReservation(Initiator i) {
        Initiator.Result r = i.send(0, in(READ_RESERVATION, 8192));
        if (!r.good()) {
            throw new AssertionError("READ RESERVATION failed: " + r);
        }
        byte[] d = r.data();
        if (u32(d, 4) == 0) {
            return null;
        }
        return new Reservation(u64(d, 8), d[21] & 0x0F);
    }

    static long u32(byte[] d, int at) {
        return ((d[at] & 0xFFL) << 24) | ((d[at + 1] & 0xFFL) << 16) | ((d[at + 2] & 0xFFL) << 8) | (d[at + 3] & 0xFFL);
    }

    static long u64(byte[] d, int at) {
        return (u32(d, at) << 32) | u32(d, at + 4);
    }

    static int u16(byte[] d, int at) {
        return ((d[at] & 0xFF) << 8) | (d[at + 1] & 0xFF);
    }

    static byte[] reserve6() {
        return Cdb.of(0x16, 0, 0, 0, 0, 0);
    }

    static byte[] release6() {
        return Cdb.of(0x17, 0, 0, 0, 0, 0);
    }

    static byte[] reserve10() {
        return Cdb.of(0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    static byte[] release10() {
        return Cdb.of(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
}
