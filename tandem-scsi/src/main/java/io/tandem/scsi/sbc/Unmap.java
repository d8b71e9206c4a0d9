package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * UNMAP (SBC-4 5.32). The parameter list is an 8-byte header (UNMAP DATA LENGTH, UNMAP BLOCK
 * DESCRIPTOR DATA LENGTH) followed by 16-byte descriptors (LBA, NUMBER OF LOGICAL BLOCKS).
 *
 * <p>Every descriptor is validated before anything is deallocated, so a refused command leaves the
 * medium as it was: a list of 1..7 bytes is a parameter list length error; more descriptors than
 * MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT, or more blocks in total than MAXIMUM UNMAP LBA COUNT, are
 * invalid fields in the parameter list; a range past the last LBA is out of range. A trailing
 * partial descriptor is ignored, as are descriptors of zero blocks. The ranges are then sorted and
 * merged, so adjacent single-block descriptors still free whole file system blocks.
 */
public final class Unmap {

    private static final int HEADER = 8;
    private static final int DESCRIPTOR = 16;

    private Unmap() {
    }

    /** The Data-Out length: PARAMETER LIST LENGTH. */
    public static long dataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        return Bytes.u16(cdb, 7);
    }

    private record Range(long lba, long blocks) {
        long end() {
            return lba + blocks;
        }
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        LogicalUnit lu = c.lu();
        if (!LogicalBlockProvisioning.thin(lu)) {
            // A fully provisioned LU has no UNMAP (LBPU=0).
            throw ScsiException.withCdbField(SenseReason.INVALID_COMMAND_OPERATION_CODE, 0, 7);
        }
        int listLength = Bytes.u16(c.cdb(), 7);
        if (listLength == 0) {
            return Command.good(); // no parameter data: nothing to do, not an error
        }
        ByteBuffer data = c.dataOut();
        int received = data == null ? 0 : data.remaining();
        if (received < HEADER) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] list = new byte[received];
        data.duplicate().get(list);
        List<Range> ranges = parse(list, lu.blockCount());
        if (ranges.isEmpty()) {
            return Command.good();
        }
        boolean fua = !lu.modeParameters().writeCacheEnabled();
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        for (Range r : merge(ranges)) {
            done = done.thenCompose(v -> c.io(() -> lu.device().deallocate(r.lba(), r.blocks(), fua)));
        }
        return done.thenApply(v -> ScsiResponse.good());
    }

    /** Validates the whole list and returns its non-empty ranges. */
    private static List<Range> parse(byte[] list, long capacity) {
        int descriptorBytes = Math.min(Bytes.u16(list, 2), list.length - HEADER);
        int count = descriptorBytes / DESCRIPTOR; // an incomplete last descriptor is ignored
        if (count > LogicalBlockProvisioning.MAX_UNMAP_DESCRIPTORS) {
            throw ScsiException.invalidParameterField(2, 7);
        }
        List<Range> ranges = new ArrayList<>(count);
        long total = 0;
        for (int i = 0; i < count; i++) {
            int at = HEADER + i * DESCRIPTOR;
            long lba = Bytes.u64(list, at);
            long blocks = Bytes.u32(list, at + 8);
            if (Long.compareUnsigned(lba, capacity) > 0 || blocks > capacity - lba) {
                throw ScsiException.of(SenseReason.LBA_OUT_OF_RANGE);
            }
            total += blocks;
            if (total > LogicalBlockProvisioning.MAX_UNMAP_BLOCKS) {
                throw ScsiException.invalidParameterField(at + 8, 7);
            }
            if (blocks > 0) {
                ranges.add(new Range(lba, blocks));
            }
        }
        return ranges;
    }

    /** Sorted, with overlapping and adjacent ranges joined. */
    private static List<Range> merge(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(Range::lba));
        List<Range> merged = new ArrayList<>(sorted.size());
        Range current = sorted.getFirst();
        for (Range r : sorted.subList(1, sorted.size())) {
            if (r.lba() <= current.end()) {
                current = new Range(current.lba(), Math.max(current.end(), r.end()) - current.lba());
            } else {
                merged.add(current);
                current = r;
            }
        }
        merged.add(current);
        return merged;
    }
}
