package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.PersistentReservation;
import io.tandem.cluster.Registration;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * PERSISTENT RESERVE IN (SPC-4 6.16): READ KEYS, READ RESERVATION, REPORT CAPABILITIES and READ
 * FULL STATUS, one table row each, all rendered from the LU's cached cluster record. The header's
 * lengths always describe the full answer; the allocation length only cuts what is sent.
 */
public final class PersistentReserveIn {

    /** REPORT CAPABILITIES byte 2: CRH (SPC-4 5.13.3 RESERVE/RELEASE handling), SIP_C, ATP_C, PTPL_C. */
    private static final int CAPABILITIES = 0x10 | 0x08 | 0x04 | 0x01;
    /** REPORT CAPABILITIES byte 3: TMV, ALLOW COMMANDS 001b (TEST UNIT READY passes WE and EA reservations). */
    private static final int TYPE_MASK_VALID_ALLOW_COMMANDS = 0x80 | 0x10;

    private PersistentReserveIn() {
    }

    private static int allocation(Command c) {
        return Bytes.u16(c.cdb(), 7);
    }

    public static CompletableFuture<ScsiResponse> readKeys(Command c) {
        LuState s = c.lu().state();
        byte[] d = new byte[8 + 8 * s.registrations().size()];
        Bytes.putInt(d, 0, s.prGeneration());
        Bytes.putInt(d, 4, 8 * s.registrations().size());
        int at = 8;
        for (Registration r : s.registrations()) {
            Bytes.putLong(d, at, r.key());
            at += 8;
        }
        return c.dataIn(d, allocation(c));
    }

    public static CompletableFuture<ScsiResponse> readReservation(Command c) {
        LuState s = c.lu().state();
        PersistentReservation res = s.reservation();
        byte[] d = new byte[res == null ? 8 : 24];
        Bytes.putInt(d, 0, s.prGeneration());
        if (res != null) {
            Bytes.putInt(d, 4, 16);
            Bytes.putLong(d, 8, reservationKey(s, res));
            d[21] = (byte) ReservationTypes.code(res.type()); // SCOPE 0h (logical unit) | TYPE
        }
        return c.dataIn(d, allocation(c));
    }

    public static CompletableFuture<ScsiResponse> reportCapabilities(Command c) {
        LuState s = c.lu().state();
        byte[] d = new byte[8];
        Bytes.putShort(d, 0, 8);
        d[2] = (byte) CAPABILITIES;
        d[3] = (byte) (TYPE_MASK_VALID_ALLOW_COMMANDS | (s.aptpl() ? 0x01 : 0)); // PTPL_A
        Bytes.putShort(d, 4, ReservationTypes.TYPE_MASK);
        return c.dataIn(d, allocation(c));
    }

    public static CompletableFuture<ScsiResponse> readFullStatus(Command c) {
        LuState s = c.lu().state();
        PersistentReservation res = s.reservation();
        ByteArrayOutputStream descriptors = new ByteArrayOutputStream();
        for (Registration r : s.registrations()) {
            byte[] transportId = TransportIds.render(r.nexus().initiatorPort());
            byte[] d = new byte[24 + transportId.length];
            Bytes.putLong(d, 0, r.key());
            boolean holder = res != null && (res.type().allRegistrants() || res.holder().equals(r.nexus()));
            d[12] = (byte) ((r.nexus().allTargetPorts() ? 0x02 : 0) | (holder ? 0x01 : 0)); // ALL_TG_PT, R_HOLDER
            if (holder) {
                d[13] = (byte) ReservationTypes.code(res.type());
            }
            Bytes.putShort(d, 18, r.nexus().relativeTargetPortId());
            Bytes.putInt(d, 20, transportId.length);
            System.arraycopy(transportId, 0, d, 24, transportId.length);
            descriptors.writeBytes(d);
        }
        byte[] body = descriptors.toByteArray();
        byte[] d = new byte[8 + body.length];
        Bytes.putInt(d, 0, s.prGeneration());
        Bytes.putInt(d, 4, body.length);
        System.arraycopy(body, 0, d, 8, body.length);
        return c.dataIn(d, allocation(c));
    }

    /** The reservation key READ RESERVATION reports: the holder's, or 0 for All Registrants types. */
    static long reservationKey(LuState s, PersistentReservation res) {
        if (res.type().allRegistrants()) {
            return 0;
        }
        Registration holder = s.registration(res.holder());
        return holder == null ? 0 : holder.key();
    }
}
