package io.tandem.scsi.alua;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.TargetPortGroup;
import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * REPORT TARGET PORT GROUPS (MAINTENANCE IN, service action 0Ah; SPC-4 6.37). Lists every target
 * port group of the cluster (one per node) with the addressed LU's access state through it, so the
 * answer is the same on every path. PARAMETER DATA FORMAT 000b has the four-byte length-only
 * header; 001b adds the format byte and the implicit transition time.
 */
public final class ReportTargetPortGroups {

    static final int FORMAT_LENGTH_ONLY = 0;
    static final int FORMAT_EXTENDED = 1;
    private static final int DESCRIPTOR_BYTES = 8;
    private static final int PORT_BYTES = 4;

    private ReportTargetPortGroups() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        int format = (cdb[1] & 0xE0) >>> 5;
        if (format != FORMAT_LENGTH_ONLY && format != FORMAT_EXTENDED) {
            throw ScsiException.invalidCdbField(1, 7);
        }
        long allocation = Bytes.u32(cdb, 6);
        // A fenced node tells the truth about itself: its own group is Transitioning until the fence lifts.
        int fencedGroup = c.target().fenced() ? c.nexus().targetPort().targetPortGroup() : -1;
        return c.dataIn(render(c.lu(), c.target().targetPortGroups(), format, c.target().implicitTransitionSeconds(),
                fencedGroup), allocation);
    }

    static byte[] render(LogicalUnit lu, List<TargetPortGroup> groups, int format, int implicitTransitionSeconds,
                         int fencedGroup) {
        int header = format == FORMAT_EXTENDED ? 8 : 4;
        int length = header;
        for (TargetPortGroup g : groups) {
            length += DESCRIPTOR_BYTES + PORT_BYTES * g.relativeTargetPortIds().size();
        }
        byte[] d = new byte[length];
        Bytes.putInt(d, 0, length - 4); // RETURN DATA LENGTH: everything after itself, whatever the allocation length
        if (format == FORMAT_EXTENDED) {
            d[4] = (byte) (FORMAT_EXTENDED << 4);
            d[5] = (byte) Math.min(255, implicitTransitionSeconds);
        }
        int owner = lu.state().aluaOwnerGroup();
        int at = header;
        for (TargetPortGroup g : groups) {
            AluaState state = g.id() == fencedGroup ? AluaState.TRANSITIONING : lu.accessState(g.id());
            d[at] = (byte) ((g.id() == owner && owner != 0 ? 0x80 : 0) | state.code()); // PREF, state
            d[at + 1] = (byte) AluaState.SUPPORTED_STATES;
            Bytes.putShort(d, at + 2, g.id());
            d[at + 5] = (byte) lu.portGroupStatus(g.id());
            d[at + 7] = (byte) g.relativeTargetPortIds().size();
            at += DESCRIPTOR_BYTES;
            for (int port : g.relativeTargetPortIds()) {
                Bytes.putShort(d, at + 2, port); // bytes 0-1 obsolete
                at += PORT_BYTES;
            }
        }
        return d;
    }
}
