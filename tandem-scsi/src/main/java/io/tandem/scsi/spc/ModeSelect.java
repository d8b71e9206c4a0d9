package io.tandem.scsi.spc;

import io.tandem.cluster.Notice;
import io.tandem.cluster.Transition;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * MODE SELECT(6) and MODE SELECT(10) (SPC-4 6.9, 6.10). The parameters are the LU's, shared by every
 * I_T nexus on every node, so they change as one change of the LU's cluster record: the whole
 * parameter list is validated against the record's current parameters, and if they differ the new
 * version carries them with a notice that gives every other I_T nexus, on whichever node,
 * MODE PARAMETERS CHANGED. GOOD goes out once every node has applied it, so a command through
 * another path already sees the new parameters (SWP, WCE, ...).
 */
public final class ModeSelect {

    private ModeSelect() {
    }

    public static CompletableFuture<ScsiResponse> execute6(Command c) {
        return select(c, false, Bytes.u8(c.cdb(), 4));
    }

    public static CompletableFuture<ScsiResponse> execute10(Command c) {
        return select(c, true, Bytes.u16(c.cdb(), 7));
    }

    /** Data-Out length of MODE SELECT(6): its PARAMETER LIST LENGTH. */
    public static long dataOut6(byte[] cdb) {
        return Bytes.u8(cdb, 4);
    }

    public static long dataOut10(byte[] cdb) {
        return Bytes.u16(cdb, 7);
    }

    private static CompletableFuture<ScsiResponse> select(Command c, boolean ten, int parameterListLength) {
        byte[] cdb = c.cdb();
        boolean pf = (cdb[1] & 0x10) != 0;
        boolean sp = (cdb[1] & 0x01) != 0;
        if (sp) {
            throw ScsiException.invalidCdbField(1, 0);
        }
        if (parameterListLength == 0) {
            return Command.good();
        }
        if (!pf) {
            throw ScsiException.invalidCdbField(1, 4);
        }
        ByteBuffer out = c.dataOut();
        if (out == null || out.remaining() < parameterListLength) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] list = new byte[parameterListLength];
        out.duplicate().get(list);

        LogicalUnit lu = c.lu();
        // Refuse a bad list here, before the coordinator is involved; the change validates again
        // against the record it applies to.
        apply(lu, lu.modeParameters(), list, ten);
        Transition how = Transition.by(NexusIds.exact(c.nexus()), c.task().tag(),
                List.of(Notice.of(Notice.Kind.MODE_PARAMETERS_CHANGED, List.of())));
        return lu.changeState(s -> {
            ModeParameters before = ModeParameters.decode(s.modeParameters());
            ModeParameters after = apply(lu, before, list, ten);
            return after.equals(before) ? s : s.withModeParameters(after.encode()).withTransition(how);
        }).thenApply(applied -> ScsiResponse.good());
    }

    /** Validates the whole list against {@code current} and returns the parameters it sets. */
    static ModeParameters apply(LogicalUnit lu, ModeParameters current, byte[] list, boolean ten) {
        int headerLength = ten ? 8 : 4;
        if (list.length < headerLength) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        int mediumType = ten ? Bytes.u8(list, 2) : Bytes.u8(list, 1);
        if (mediumType != 0) {
            throw ScsiException.invalidParameterField(ten ? 2 : 1, 7);
        }
        boolean longLba = ten && (list[4] & 0x01) != 0;
        int descriptorLength = ten ? Bytes.u16(list, 6) : Bytes.u8(list, 3);
        int expectedDescriptor = longLba ? 16 : 8;
        if (descriptorLength != 0 && descriptorLength != expectedDescriptor) {
            throw ScsiException.invalidParameterField(ten ? 6 : 3, 7);
        }
        if (headerLength + descriptorLength > list.length) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (descriptorLength != 0) {
            checkBlockDescriptor(lu, list, headerLength, longLba);
        }
        ModeParameters result = current;
        int p = headerLength + descriptorLength;
        while (p < list.length) {
            if (list.length - p < 2) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            if ((list[p] & 0x80) != 0) {
                throw ScsiException.invalidParameterField(p, 7); // PS is reserved in MODE SELECT
            }
            boolean subpageFormat = (list[p] & 0x40) != 0;
            int code = list[p] & 0x3F;
            int subpage = subpageFormat ? Bytes.u8(list, p + 1) : 0;
            if (subpageFormat && list.length - p < 4) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            int pageLength = subpageFormat ? 4 + Bytes.u16(list, p + 2) : 2 + Bytes.u8(list, p + 1);
            ModePages.Page page = ModePages.find(code, subpage);
            if (page == null || subpageFormat != page.subpageFormat()) {
                throw ScsiException.invalidParameterField(p, 5);
            }
            if (pageLength != page.length()) {
                throw ScsiException.invalidParameterField(subpageFormat ? p + 2 : p + 1, 7);
            }
            if (p + pageLength > list.length) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            byte[] now = page.current(result);
            byte[] changeable = page.changeable();
            for (int i = page.headerLength(); i < pageLength; i++) {
                int fixedDiff = (list[p + i] ^ now[i]) & ~changeable[i] & 0xFF;
                if (fixedDiff != 0) {
                    throw ScsiException.invalidParameterField(p + i, 31 - Integer.numberOfLeadingZeros(fixedDiff));
                }
            }
            byte[] sent = new byte[pageLength];
            System.arraycopy(list, p, sent, 0, pageLength);
            try {
                result = page.apply().apply(result, sent);
            } catch (ScsiException e) {
                // the page's own check points into the page; the sense must point into the list
                throw e.hasFieldPointer() && !e.fieldInCdb()
                        ? ScsiException.invalidParameterField(p + e.fieldByte(), e.fieldBit()) : e;
            }
            p += pageLength;
        }
        return result;
    }

    /** The block descriptor may restate the LU's geometry but not change it (no reformat, no resize). */
    private static void checkBlockDescriptor(LogicalUnit lu, byte[] list, int at, boolean longLba) {
        long blocks;
        int blockLength;
        int blockLengthAt;
        if (longLba) {
            blocks = Bytes.u64(list, at);
            blockLengthAt = at + 12;
            blockLength = (int) Bytes.u32(list, blockLengthAt);
            if (list[at + 8] != 0) {
                throw ScsiException.invalidParameterField(at + 8, 7);
            }
        } else {
            blocks = Bytes.u32(list, at);
            blockLengthAt = at + 5;
            blockLength = Bytes.u24(list, blockLengthAt);
            if (list[at + 4] != 0) {
                throw ScsiException.invalidParameterField(at + 4, 7);
            }
        }
        boolean blocksUnchanged = blocks == 0 || blocks == lu.blockCount()
                || (!longLba && blocks == 0xFFFFFFFFL && lu.blockCount() > 0xFFFFFFFFL);
        if (!blocksUnchanged) {
            throw ScsiException.invalidParameterField(at, 7);
        }
        if (blockLength != lu.blockSize()) {
            throw ScsiException.invalidParameterField(blockLengthAt, 7);
        }
    }
}
