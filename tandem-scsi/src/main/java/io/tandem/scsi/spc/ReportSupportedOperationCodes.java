package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandSet;
import io.tandem.scsi.core.ScsiException;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35). Every byte is generated from the opcode table:
 * the list of commands, their CDB lengths, service actions, CDB usage data and timeouts.
 */
public final class ReportSupportedOperationCodes {

    private static final int ALL = 0b000;
    private static final int ONE_OPCODE = 0b001;
    private static final int ONE_SERVICE_ACTION = 0b010;
    private static final int OPCODE_AND_SERVICE_ACTION = 0b011;
    private static final int SUPPORT_NOT_SUPPORTED = 0b001;
    private static final int SUPPORT_SUPPORTED = 0b011;

    private ReportSupportedOperationCodes() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        boolean rctd = (cdb[2] & 0x80) != 0;
        int options = cdb[2] & 0x07;
        int opcode = Bytes.u8(cdb, 3);
        int serviceAction = Bytes.u16(cdb, 4);
        long allocation = Bytes.u32(cdb, 6);
        CommandSet table = c.target().commands();
        byte[] data = switch (options) {
            case ALL -> all(table, rctd);
            case ONE_OPCODE -> {
                if (table.usesServiceActions(opcode)) {
                    throw ScsiException.invalidCdbField(2, 2);
                }
                yield one(table.find(opcode, 0), rctd);
            }
            case ONE_SERVICE_ACTION -> {
                if (table.isKnownOpcode(opcode) && !table.usesServiceActions(opcode)) {
                    throw ScsiException.invalidCdbField(2, 2);
                }
                yield one(serviceAction > 0x1F ? null : table.find(opcode, serviceAction), rctd);
            }
            case OPCODE_AND_SERVICE_ACTION -> {
                boolean sa = table.usesServiceActions(opcode);
                yield one(sa && serviceAction > 0x1F ? null : table.find(opcode, sa ? serviceAction : 0), rctd);
            }
            default -> throw ScsiException.invalidCdbField(2, 2);
        };
        return c.dataIn(data, allocation);
    }

    private static byte[] all(CommandSet table, boolean rctd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        out.writeBytes(new byte[4]);
        for (CommandDescriptor d : table.all()) {
            byte[] e = new byte[8];
            e[0] = (byte) d.opcode();
            if (d.hasServiceAction()) {
                Bytes.putShort(e, 2, d.serviceAction());
            }
            e[5] = (byte) ((rctd ? 0x02 : 0) | (d.hasServiceAction() ? 0x01 : 0)); // CTDP, SERVACTV
            Bytes.putShort(e, 6, d.cdbLength());
            out.writeBytes(e);
            if (rctd) {
                out.writeBytes(timeouts(d));
            }
        }
        byte[] data = out.toByteArray();
        Bytes.putInt(data, 0, data.length - 4);
        return data;
    }

    private static byte[] one(CommandDescriptor d, boolean rctd) {
        if (d == null) {
            byte[] data = new byte[4];
            data[1] = SUPPORT_NOT_SUPPORTED;
            return data;
        }
        byte[] usage = d.usageData();
        byte[] data = new byte[4 + usage.length + (rctd ? 12 : 0)];
        data[1] = (byte) ((rctd ? 0x80 : 0) | SUPPORT_SUPPORTED);
        Bytes.putShort(data, 2, usage.length);
        System.arraycopy(usage, 0, data, 4, usage.length);
        if (rctd) {
            System.arraycopy(timeouts(d), 0, data, 4 + usage.length, 12);
        }
        return data;
    }

    /** Command timeouts descriptor (SPC-4 6.35.4): length 0Ah, nominal and recommended seconds. */
    private static byte[] timeouts(CommandDescriptor d) {
        byte[] t = new byte[12];
        Bytes.putShort(t, 0, 0x0A);
        Bytes.putInt(t, 4, d.nominalTimeoutSeconds());
        Bytes.putInt(t, 8, d.recommendedTimeoutSeconds());
        return t;
    }
}
