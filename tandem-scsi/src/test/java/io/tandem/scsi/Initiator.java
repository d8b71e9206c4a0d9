package io.tandem.scsi;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/** One I_T nexus driving a {@link ScsiTarget} in tests, with CDB builders and sense parsing. */
final class Initiator {

    final ScsiTarget target;
    final Nexus nexus;
    final RecordingPort port = new RecordingPort();
    private final AtomicLong tags = new AtomicLong(1);

    Initiator(ScsiTarget target, String name, int relativePort) {
        this.target = target;
        this.nexus = new Nexus(name, 0x23D000000001L, new TargetPort(target.targetName(), 1, relativePort, relativePort));
    }

    /** Logs in and clears the power-on unit attention with REQUEST SENSE on every LUN given. */
    Initiator login(int... luns) {
        target.nexusAdded(nexus);
        for (int lun : luns) {
            send(lun, Cdb.requestSense(252));
        }
        return this;
    }

    ScsiTask task(int lun, byte[] cdb, int edtl, byte[] dataOut, TaskAttribute attribute) {
        ScsiTask t = new ScsiTask(nexus, lunField(lun), pad16(cdb), attribute, tags.getAndIncrement(), edtl,
                dataOut == null && edtl > 0, dataOut != null, port);
        if (dataOut != null) {
            port.dataOut(t, dataOut);
        }
        return t;
    }

    static long lunField(int lun) {
        return lun < 256 ? ((long) lun << 48) : ((0x4000L | lun) << 48);
    }

    /** iSCSI carries CDBs in a 16-byte field; the target must ignore bytes past the CDB's length. */
    private static byte[] pad16(byte[] cdb) {
        if (cdb.length >= 16) {
            return cdb;
        }
        byte[] padded = new byte[16];
        System.arraycopy(cdb, 0, padded, 0, cdb.length);
        return padded;
    }

    /** Sends a command without Data-Out, with a generous expected length. */
    Result send(int lun, byte[] cdb) {
        return send(lun, cdb, 1 << 24);
    }

    Result send(int lun, byte[] cdb, int edtl) {
        ScsiTask t = task(lun, cdb, edtl, null, TaskAttribute.SIMPLE);
        target.submit(t);
        return result(t);
    }

    Result sendOut(int lun, byte[] cdb, byte[] data) {
        return sendOut(lun, cdb, data, data.length);
    }

    Result sendOut(int lun, byte[] cdb, byte[] data, int edtl) {
        ScsiTask t = task(lun, cdb, edtl, data, TaskAttribute.SIMPLE);
        target.submit(t);
        return result(t);
    }

    Result result(ScsiTask t) {
        RecordingPort.Outcome o = port.await(t);
        if (o.aborted()) {
            return new Result(t, -1, null, null);
        }
        ScsiResponse r = o.response();
        byte[] data = null;
        if (r.dataIn() != null) {
            ByteBuffer b = r.dataIn().duplicate();
            data = new byte[b.remaining()];
            b.get(data);
        }
        return new Result(t, r.status(), data, r.sense());
    }

    /** A completed command as the initiator sees it. */
    record Result(ScsiTask task, int status, byte[] data, byte[] sense) {

        boolean good() {
            return status == ScsiResponse.GOOD;
        }

        int senseKey() {
            return isDescriptor() ? sense[1] & 0x0F : sense[2] & 0x0F;
        }

        int asc() {
            return isDescriptor() ? sense[2] & 0xFF : sense[12] & 0xFF;
        }

        int ascq() {
            return isDescriptor() ? sense[3] & 0xFF : sense[13] & 0xFF;
        }

        /** KEY/ASC/ASCQ as one number 0xKKAAQQ, for compact assertions. */
        int senseCode() {
            return (senseKey() << 16) | (asc() << 8) | ascq();
        }

        boolean isDescriptor() {
            return (sense[0] & 0x7F) == 0x72;
        }

        int dataLength() {
            return data == null ? 0 : data.length;
        }

        @Override
        public String toString() {
            return String.format("status=0x%02x sense=%s data=%d", status,
                    sense == null ? "-" : String.format("%06x", senseCode()), dataLength());
        }
    }
}
