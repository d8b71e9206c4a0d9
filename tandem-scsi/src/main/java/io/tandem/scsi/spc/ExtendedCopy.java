package io.tandem.scsi.spc;

import io.tandem.scsi.Nexus;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandSet;
import io.tandem.scsi.core.CopyOperations;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseData;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.core.TaskAbortedException;
import io.tandem.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * EXTENDED COPY(LID1) (SPC-4 6.4): the copy manager of the addressed LU copies block ranges between
 * any LUs of this target, named by identification CSCD descriptors (E4h, the LU's NAA designator
 * from VPD page 83h), as block-to-block segments (02h). The data never crosses the fabric, and
 * between file-backed LUs not even this process ({@code BlockDevice.copyTo}).
 *
 * <p>The whole parameter list is validated, and every segment's LUs resolved and ranges checked,
 * before the first byte is copied, so an invalid list changes nothing. Segment failures end the
 * command with COPY ABORTED and a SEGMENT POINTER (field pointer to the segment descriptor).
 * Progress and outcome are recorded per I_T nexus and list identifier for RECEIVE COPY RESULTS
 * ({@link CopyOperations}).
 */
public final class ExtendedCopy {

    private static final int HEADER = 16;
    private static final int PARAMETER_LIST_LENGTH_BYTE = 10;
    private static final int LIST_ID_USAGE_HOLD = 0b00;
    private static final int LIST_ID_USAGE_RESERVED = 0b01;
    private static final int LIST_ID_USAGE_NONE = 0b11;
    private static final int DESIGNATOR_NAA = 0x3;
    private static final int CODE_SET_BINARY = 0x1;

    private ExtendedCopy() {
    }

    /** The largest parameter list that can be valid: a header and the longest descriptor lists. */
    static final int MAX_PARAMETER_LIST = HEADER + ThirdPartyCopy.MAX_DESCRIPTOR_LIST_LENGTH;

    /**
     * Data-Out: the PARAMETER LIST LENGTH, but never more than one byte past the largest valid list
     * (enough for the handler to refuse it), so an initiator cannot make the target buffer more.
     */
    public static long dataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        return Math.min(Bytes.u32(cdb, PARAMETER_LIST_LENGTH_BYTE), MAX_PARAMETER_LIST + 1);
    }

    /** An identification CSCD descriptor: the LU it names (by NAA) and the block length it assumes. */
    private record Cscd(int offset, byte[] naa, int blockLength) {
    }

    /** A block-to-block segment as parsed; {@code offset} is its position in the parameter list. */
    private record Segment(int offset, int source, int destination, boolean destinationUnits, int blocks,
                           long sourceLba, long destinationLba) {
    }

    /** A segment ready to run: both LUs resolved and the ranges checked. */
    private record Step(Segment segment, LogicalUnit source, LogicalUnit destination, long blocks) {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        long listLength = Bytes.u32(c.cdb(), PARAMETER_LIST_LENGTH_BYTE);
        if (listLength == 0) {
            return Command.good(); // SPC-4: not an error, nothing to do
        }
        if (listLength > MAX_PARAMETER_LIST) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        ByteBuffer data = c.dataOut();
        byte[] list = new byte[data == null ? 0 : data.remaining()];
        if (data != null) {
            data.get(data.position(), list);
        }
        if (list.length < HEADER) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        int listId = Bytes.u8(list, 0);
        int usage = (list[1] >>> 3) & 0x03;
        if ((list[1] & 0xC0) != 0) {
            throw ScsiException.invalidParameterField(1, 7);
        }
        if (usage == LIST_ID_USAGE_RESERVED) {
            throw ScsiException.invalidParameterField(1, 4);
        }
        if (usage == LIST_ID_USAGE_NONE && listId != 0) {
            throw ScsiException.invalidParameterField(0, 7);
        }
        int cscdLength = Bytes.u16(list, 2);
        long segmentLength = Bytes.u32(list, 8);
        long inlineLength = Bytes.u32(list, 12);
        if (HEADER + cscdLength + segmentLength + inlineLength > list.length
                || cscdLength + segmentLength > ThirdPartyCopy.MAX_DESCRIPTOR_LIST_LENGTH) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (inlineLength != 0) {
            throw ScsiException.invalidParameterField(12, 7); // MAXIMUM INLINE DATA LENGTH is 0
        }
        List<Cscd> cscds = parseCscds(list, HEADER, HEADER + cscdLength);
        List<Segment> segments = parseSegments(list, HEADER + cscdLength, HEADER + cscdLength + (int) segmentLength);

        LogicalUnit manager = c.lu();
        CopyOperations.Operation op = manager.copies().begin(c.nexus(), listId,
                usage != LIST_ID_USAGE_NONE, usage == LIST_ID_USAGE_HOLD);
        if (op == null) {
            return CompletableFuture.completedFuture(new ScsiResponse(ScsiResponse.BUSY, null, null));
        }
        CompletableFuture<ScsiResponse> result;
        try {
            List<Step> steps = new ArrayList<>(segments.size());
            for (Segment s : segments) {
                steps.add(resolve(c, s, cscds));
            }
            result = run(c, op, steps, 0);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        return result.whenComplete((r, e) -> record(c, op, e));
    }

    /** Records the outcome for RECEIVE COPY RESULTS (FAILED SEGMENT DETAILS holds the sense). */
    private static void record(Command c, CopyOperations.Operation op, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        CopyOperations copies = c.lu().copies();
        if (cause == null) {
            copies.end(op, ScsiResponse.GOOD, null);
        } else if (cause instanceof ScsiException se && se.isReservationConflict()) {
            copies.end(op, ScsiResponse.RESERVATION_CONFLICT, null);
        } else {
            ScsiException se = cause instanceof ScsiException x ? x : ScsiException.of(SenseReason.THIRD_PARTY_DEVICE_FAILURE);
            copies.end(op, ScsiResponse.CHECK_CONDITION, SenseData.build(se, c.descriptorSense()));
        }
    }

    private static List<Cscd> parseCscds(byte[] list, int from, int to) {
        List<Cscd> out = new ArrayList<>();
        for (int o = from; o < to; o += ThirdPartyCopy.CSCD_DESCRIPTOR_LENGTH) {
            int type = Bytes.u8(list, o);
            if (type != ThirdPartyCopy.CSCD_IDENTIFICATION) {
                throw ScsiException.withParameterField(SenseReason.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE, o, 7);
            }
            if (out.size() == ThirdPartyCopy.MAX_CSCD_DESCRIPTORS) {
                throw ScsiException.withParameterField(SenseReason.TOO_MANY_TARGET_DESCRIPTORS, o, 7);
            }
            if (o + ThirdPartyCopy.CSCD_DESCRIPTOR_LENGTH > to) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            // Byte 1: LU ID TYPE (ignored: SPC-4 leaves LU selection to the designator), the
            // obsolete NUL bit, PERIPHERAL DEVICE TYPE (block devices only).
            if ((list[o + 1] & 0x1F) != 0) {
                throw ScsiException.invalidParameterField(o + 1, 4);
            }
            int designatorLength = Bytes.u8(list, o + 7);
            if (designatorLength > 16) {
                throw ScsiException.invalidParameterField(o + 7, 7);
            }
            boolean naa = (list[o + 4] & 0x0F) == CODE_SET_BINARY && (list[o + 5] & 0x0F) == DESIGNATOR_NAA
                    && ((list[o + 5] >>> 4) & 0x03) == 0;
            byte[] designator = naa ? Arrays.copyOfRange(list, o + 8, o + 8 + designatorLength) : null;
            out.add(new Cscd(o, designator, Bytes.u24(list, o + 29)));
        }
        return out;
    }

    private static List<Segment> parseSegments(byte[] list, int from, int to) {
        List<Segment> out = new ArrayList<>();
        int o = from;
        while (o < to) {
            if (o + 4 > to) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            int type = Bytes.u8(list, o);
            if (type != ThirdPartyCopy.SEGMENT_BLOCK_TO_BLOCK) {
                throw ScsiException.withParameterField(SenseReason.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE, o, 7);
            }
            if (out.size() == ThirdPartyCopy.MAX_SEGMENT_DESCRIPTORS) {
                throw ScsiException.withParameterField(SenseReason.TOO_MANY_SEGMENT_DESCRIPTORS, o, 7);
            }
            if (Bytes.u16(list, o + 2) != ThirdPartyCopy.BLOCK_TO_BLOCK_LENGTH - 4) {
                throw ScsiException.invalidParameterField(o + 2, 7);
            }
            if (o + ThirdPartyCopy.BLOCK_TO_BLOCK_LENGTH > to) {
                throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
            }
            out.add(new Segment(o, Bytes.u16(list, o + 4), Bytes.u16(list, o + 6), (list[o + 1] & 0x02) != 0,
                    Bytes.u16(list, o + 10), Bytes.u64(list, o + 12), Bytes.u64(list, o + 20)));
            o += ThirdPartyCopy.BLOCK_TO_BLOCK_LENGTH;
        }
        return out;
    }

    /**
     * Resolves a segment's CSCDs to LUs of this target and checks everything a copy target would:
     * existence, block length, reservations, write protection, sanitize state, range.
     */
    private static Step resolve(Command c, Segment s, List<Cscd> cscds) {
        LogicalUnit source = lu(c, s, s.source(), cscds);
        LogicalUnit destination = lu(c, s, s.destination(), cscds);
        if (source.blockSize() != destination.blockSize()) {
            throw ScsiException.withParameterField(SenseReason.INCORRECT_COPY_TARGET_DEVICE_TYPE, s.offset(), 7);
        }
        CommandSet table = c.target().commands();
        // The copy manager reads and writes on behalf of the nexus that sent the EXTENDED COPY, so
        // the copy targets' access states and reservations apply to it as to a READ(16) and a
        // WRITE(16) of its own through the same target port.
        CommandDescriptor read = table.find(0x88, 0);
        CommandDescriptor write = table.find(0x8A, 0);
        int portGroup = c.nexus().targetPort().targetPortGroup();
        if (!source.accessState(portGroup).admits(read) || !destination.accessState(portGroup).admits(write)) {
            throw ScsiException.withParameterField(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE, s.offset(), 7);
        }
        if (conflicts(source, c.nexus(), read) || conflicts(destination, c.nexus(), write)) {
            throw ScsiException.reservationConflict();
        }
        if (destination.readOnly()) {
            throw ScsiException.of(SenseReason.WRITE_PROTECTED);
        }
        if (destination.modeParameters().softwareWriteProtect()) {
            throw ScsiException.of(SenseReason.SOFTWARE_WRITE_PROTECTED);
        }
        source.sanitize().check(false);
        destination.sanitize().check(false);
        long blocks = s.blocks();
        if (!inside(s.sourceLba(), blocks, source) || !inside(s.destinationLba(), blocks, destination)) {
            throw ScsiException.withParameterField(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE, s.offset(), 7);
        }
        return new Step(s, source, destination, blocks);
    }

    private static boolean conflicts(LogicalUnit lu, Nexus nexus, CommandDescriptor access) {
        return access != null && lu.reservations().conflicts(nexus, access);
    }

    private static boolean inside(long lba, long blocks, LogicalUnit lu) {
        long capacity = lu.blockCount();
        return Long.compareUnsigned(lba, capacity) <= 0 && blocks <= capacity - lba;
    }

    private static LogicalUnit lu(Command c, Segment s, int index, List<Cscd> cscds) {
        if (index >= cscds.size()) {
            throw ScsiException.withParameterField(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE, s.offset() + (index == s.source() ? 4 : 6), 7);
        }
        Cscd cscd = cscds.get(index);
        if (cscd.naa() != null) {
            for (LogicalUnit lu : c.target().logicalUnits()) {
                // Only LUs this nexus may address: LUN masking hides the others from copies too.
                if (lu.visibleTo(c.nexus()) && !lu.retired() && Arrays.equals(lu.identity().naa(), cscd.naa())) {
                    if (cscd.blockLength() != lu.blockSize()) {
                        throw ScsiException.withParameterField(SenseReason.INCORRECT_COPY_TARGET_DEVICE_TYPE, cscd.offset() + 29, 7);
                    }
                    return lu;
                }
            }
        }
        throw ScsiException.withParameterField(SenseReason.COPY_TARGET_DEVICE_NOT_REACHABLE, cscd.offset(), 7);
    }

    /** Runs the steps in order; a backend failure becomes COPY ABORTED pointing at its segment. */
    private static CompletableFuture<ScsiResponse> run(Command c, CopyOperations.Operation op, List<Step> steps, int next) {
        if (next == steps.size()) {
            return Command.good();
        }
        Step step = steps.get(next);
        CompletableFuture<Void> copy = step.blocks() == 0 ? CompletableFuture.completedFuture(null)
                : c.io(() -> step.source().device().copyTo(step.destination().device(),
                        step.segment().sourceLba(), step.segment().destinationLba(), step.blocks()));
        return copy.handle((v, e) -> {
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof TaskAbortedException) {
                    throw (TaskAbortedException) cause;
                }
                SenseReason reason = cause instanceof StorageException se && se.kind() == StorageException.Kind.WRITE_PROTECTED
                        ? SenseReason.WRITE_PROTECTED : SenseReason.THIRD_PARTY_DEVICE_FAILURE;
                throw ScsiException.withParameterField(reason, step.segment().offset(), 7);
            }
            c.lu().copies().segmentDone(op, step.blocks() * step.source().blockSize());
            return (Void) null;
        }).thenCompose(v -> run(c, op, steps, next + 1));
    }
}
