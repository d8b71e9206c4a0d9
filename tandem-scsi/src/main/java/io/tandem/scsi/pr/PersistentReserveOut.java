package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.ReservationType;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * PERSISTENT RESERVE OUT (SPC-4 6.17): decodes the CDB and parameter list, then hands the service
 * action's pure transition ({@link PrTransitions}) to the LU's coordinator. The command completes
 * once every node has applied the new record (its unit attentions queued, PREEMPT AND ABORT's
 * victims aborted).
 *
 * <pre>
 * CDB: byte 1 SERVICE ACTION | byte 2 SCOPE (7-4) TYPE (3-0) | bytes 5-8 PARAMETER LIST LENGTH
 * basic parameter list (24 bytes): 0 RESERVATION KEY | 8 SERVICE ACTION RESERVATION KEY |
 *   20 SPEC_I_PT (bit 3) ALL_TG_PT (bit 2) APTPL (bit 0) | [SPEC_I_PT: 24 TRANSPORTID PARAMETER
 *   DATA LENGTH | 28 TransportIDs]
 * REGISTER AND MOVE: 0 RESERVATION KEY | 8 SERVICE ACTION RESERVATION KEY | 17 UNREG (bit 1)
 *   APTPL (bit 0) | 18 RELATIVE TARGET PORT IDENTIFIER | 20 TRANSPORTID PARAMETER DATA LENGTH | 24 TransportID
 * </pre>
 */
public final class PersistentReserveOut {

    public static final int REGISTER = 0x00;
    public static final int RESERVE = 0x01;
    public static final int RELEASE = 0x02;
    public static final int CLEAR = 0x03;
    public static final int PREEMPT = 0x04;
    public static final int PREEMPT_AND_ABORT = 0x05;
    public static final int REGISTER_AND_IGNORE_EXISTING_KEY = 0x06;
    public static final int REGISTER_AND_MOVE = 0x07;

    private static final int BASIC_LENGTH = 24;
    /** Far above any sensible SPEC_I_PT list; refuses before a buffer is allocated. */
    private static final long MAX_PARAMETER_LIST = 64 * 1024;

    private PersistentReserveOut() {
    }

    /** The Data-Out length the CDB implies: PARAMETER LIST LENGTH (bounded). */
    public static long dataOut(byte[] cdb) {
        long length = Bytes.u32(cdb, 5);
        if (length > MAX_PARAMETER_LIST) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        return length;
    }

    public static CompletableFuture<ScsiResponse> register(Command c) {
        return run(c, REGISTER, false, (s, r) -> PrTransitions.register(s, r, false));
    }

    public static CompletableFuture<ScsiResponse> registerAndIgnoreExistingKey(Command c) {
        return run(c, REGISTER_AND_IGNORE_EXISTING_KEY, false, (s, r) -> PrTransitions.register(s, r, true));
    }

    public static CompletableFuture<ScsiResponse> reserve(Command c) {
        return run(c, RESERVE, true, PrTransitions::reserve);
    }

    public static CompletableFuture<ScsiResponse> release(Command c) {
        return run(c, RELEASE, true, PrTransitions::release);
    }

    public static CompletableFuture<ScsiResponse> clear(Command c) {
        return run(c, CLEAR, false, PrTransitions::clear);
    }

    public static CompletableFuture<ScsiResponse> preempt(Command c) {
        return run(c, PREEMPT, true, (s, r) -> PrTransitions.preempt(s, r, false));
    }

    public static CompletableFuture<ScsiResponse> preemptAndAbort(Command c) {
        return run(c, PREEMPT_AND_ABORT, true, (s, r) -> PrTransitions.preempt(s, r, true));
    }

    public static CompletableFuture<ScsiResponse> registerAndMove(Command c) {
        return run(c, REGISTER_AND_MOVE, false, PrTransitions::registerAndMove);
    }

    @FunctionalInterface
    private interface Action {
        LuState apply(LuState s, PrOutRequest r);
    }

    private static CompletableFuture<ScsiResponse> run(Command c, int serviceAction, boolean usesType, Action action) {
        PrOutRequest request = decode(c, serviceAction, usesType);
        UnaryOperator<LuState> change = s -> action.apply(s, request);
        return c.lu().changeState(change).thenApply(applied -> ScsiResponse.good());
    }

    static PrOutRequest decode(Command c, int serviceAction, boolean usesType) {
        byte[] cdb = c.cdb();
        ReservationType type = null;
        if (usesType) {
            if ((cdb[2] & 0xF0) != 0) {
                throw ScsiException.invalidCdbField(2, 7); // only LU_SCOPE exists in SPC-4
            }
            type = ReservationTypes.of(cdb[2] & 0x0F);
            if (type == null) {
                throw ScsiException.invalidCdbField(2, 3);
            }
        }
        long listLength = Bytes.u32(cdb, 5);
        byte[] p = parameters(c, listLength);
        if (serviceAction == REGISTER_AND_MOVE) {
            return decodeMove(c, p);
        }
        if (listLength < BASIC_LENGTH) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        boolean specIPt = (p[20] & 0x08) != 0;
        boolean allTgPt = (p[20] & 0x04) != 0;
        boolean aptpl = (p[20] & 0x01) != 0;
        if ((p[20] & 0xF2) != 0 || p[21] != 0) {
            throw ScsiException.invalidParameterField((p[20] & 0xF2) != 0 ? 20 : 21, 7);
        }
        List<String> transportIds = List.of();
        if (specIPt) {
            if (serviceAction != REGISTER) {
                throw ScsiException.invalidParameterField(20, 3);
            }
            if (listLength < BASIC_LENGTH + 4) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            long idsLength = Bytes.u32(p, 24);
            if (BASIC_LENGTH + 4 + idsLength != listLength) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            transportIds = new ArrayList<>();
            int at = BASIC_LENGTH + 4;
            while (at < p.length) {
                TransportIds.Parsed id = TransportIds.parse(p, at, p.length);
                transportIds.add(id.initiatorPort());
                at += id.length();
            }
        } else if (listLength != BASIC_LENGTH) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        boolean registering = serviceAction == REGISTER || serviceAction == REGISTER_AND_IGNORE_EXISTING_KEY;
        return new PrOutRequest(c.nexus(), c.task().tag(), type, Bytes.u64(p, 0), Bytes.u64(p, 8), specIPt,
                registering && allTgPt, aptpl, transportIds, false, 0);
    }

    private static PrOutRequest decodeMove(Command c, byte[] p) {
        if (p.length < BASIC_LENGTH) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (p[16] != 0 || (p[17] & 0xFC) != 0) {
            throw ScsiException.invalidParameterField(p[16] != 0 ? 16 : 17, 7);
        }
        long idLength = Bytes.u32(p, 20);
        if (BASIC_LENGTH + idLength > p.length || idLength == 0) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        TransportIds.Parsed id = TransportIds.parse(p, BASIC_LENGTH, (int) (BASIC_LENGTH + idLength));
        return new PrOutRequest(c.nexus(), c.task().tag(), null, Bytes.u64(p, 0), Bytes.u64(p, 8), false, false,
                (p[17] & 0x01) != 0, List.of(id.initiatorPort()), (p[17] & 0x02) != 0, Bytes.u16(p, 18));
    }

    /** The received parameter list; a list shorter than the CDB says (EDTL underflow) counts as a length error. */
    private static byte[] parameters(Command c, long listLength) {
        ByteBuffer data = c.dataOut();
        int received = data == null ? 0 : data.remaining();
        if (received < listLength) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] p = new byte[(int) listLength];
        if (listLength > 0) {
            data.duplicate().get(p);
        }
        return p;
    }
}
