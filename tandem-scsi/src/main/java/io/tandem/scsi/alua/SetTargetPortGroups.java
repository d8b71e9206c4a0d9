package io.tandem.scsi.alua;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.TargetPortGroup;
import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * SET TARGET PORT GROUPS (MAINTENANCE OUT, service action 0Ah; SPC-4 6.44): explicit ALUA. The
 * parameter list is a four-byte reserved header and four-byte descriptors (state, target port
 * group). Every descriptor is checked before anything changes; then all requested states are
 * stored in one compare-and-set of the LU's cluster record, and the command completes only after
 * every node has applied it. Only the primary states Active/Optimized, Active/Non-optimized,
 * Standby and Unavailable can be requested; Offline and Transitioning are the target's to set.
 */
public final class SetTargetPortGroups {

    private static final int HEADER_BYTES = 4;
    private static final int DESCRIPTOR_BYTES = 4;

    private SetTargetPortGroups() {
    }

    /** The Data-Out the CDB announces: PARAMETER LIST LENGTH. */
    public static long dataOut(byte[] cdb) {
        return Bytes.u32(cdb, 6);
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        long length = Bytes.u32(c.cdb(), 6);
        if (length == 0) {
            return Command.good(); // SPC-4: no data, no change
        }
        byte[] list = received(c.dataOut());
        if (length < HEADER_BYTES || (length - HEADER_BYTES) % DESCRIPTOR_BYTES != 0 || list.length < length) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        Set<Integer> known = new HashSet<>();
        for (TargetPortGroup g : c.target().targetPortGroups()) {
            known.add(g.id());
        }
        Map<Integer, AluaState> requested = new LinkedHashMap<>();
        for (int at = HEADER_BYTES; at < length; at += DESCRIPTOR_BYTES) {
            AluaState state = AluaState.ofCode(list[at] & 0x0F);
            if (state == null || !state.explicitlySettable()) {
                throw ScsiException.invalidParameterField(at, 3);
            }
            int group = Bytes.u16(list, at + 2);
            if (!known.contains(group) || requested.putIfAbsent(group, state) != null) {
                throw ScsiException.invalidParameterField(at + 2, 7); // unknown group, or named twice
            }
        }
        return AccessStateChanges.request(c.lu(), requested, NexusIds.exact(c.nexus()), c.task().tag())
                .thenApply(applied -> ScsiResponse.good());
    }

    private static byte[] received(ByteBuffer data) {
        if (data == null) {
            return new byte[0];
        }
        ByteBuffer b = data.duplicate();
        b.rewind();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
