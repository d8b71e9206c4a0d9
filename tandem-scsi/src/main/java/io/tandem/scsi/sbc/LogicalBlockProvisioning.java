package io.tandem.scsi.sbc;

import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.LogicalUnit;

/**
 * Logical block provisioning (SBC-4 4.7): what an LU advertises about thin provisioning and the
 * limits of UNMAP and WRITE SAME, rendered in one place for the Block Limits and Logical Block
 * Provisioning VPD pages and READ CAPACITY(16).
 *
 * <p>An LU is thin provisioned when its device can deallocate ({@code BlockDevice.thinProvisioned}).
 * Deallocated blocks always read as zeroes (LBPRZ=1). Anchored blocks (mapped, storage reserved,
 * contents zero) have no file system equivalent, so ANC_SUP=0 and ANCHOR is refused. A fully
 * provisioned LU reports all of this as absent (LBPME=0, LBPU=LBPWS=LBPWS10=0, zero UNMAP limits)
 * and refuses UNMAP; WRITE SAME still works there, without the UNMAP bit.
 */
public final class LogicalBlockProvisioning {

    /** MAXIMUM UNMAP LBA COUNT: blocks one UNMAP command may deallocate, all descriptors together. */
    public static final long MAX_UNMAP_BLOCKS = 1L << 20;
    /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT: as many as fit in a 16-bit parameter list. */
    public static final int MAX_UNMAP_DESCRIPTORS = (0xFFFF - 8) / 16;
    /**
     * MAXIMUM WRITE SAME LENGTH is bounded in bytes (a WRITE SAME with a pattern writes every block)
     * and kept below 65536 blocks.
     */
    private static final long MAX_WRITE_SAME_BYTES = 64L << 20;
    private static final long MAX_WRITE_SAME_BLOCKS = 0xFFFF;

    private LogicalBlockProvisioning() {
    }

    public static boolean thin(LogicalUnit lu) {
        return lu.device().thinProvisioned();
    }

    /** MAXIMUM WRITE SAME LENGTH in blocks. */
    public static long maxWriteSameBlocks(LogicalUnit lu) {
        return Math.min(MAX_WRITE_SAME_BLOCKS, MAX_WRITE_SAME_BYTES / lu.blockSize());
    }

    /** OPTIMAL UNMAP GRANULARITY: smaller or unaligned ranges are zeroed rather than deallocated. */
    public static long optimalUnmapGranularity(LogicalUnit lu) {
        return Math.max(1, lu.device().deallocationGranularity() / lu.blockSize());
    }

    /** Byte 14 of READ CAPACITY(16) parameter data: LBPME and LBPRZ (lowest aligned LBA 0). */
    public static int readCapacityFlags(LogicalUnit lu) {
        return thin(lu) ? 0xC0 : 0x00;
    }

    /** Fills the provisioning fields of a Block Limits VPD page (bytes 4, 20-43). */
    public static void fillBlockLimits(byte[] page, LogicalUnit lu) {
        page[4] &= ~0x01;                                          // WSNZ=0: zero blocks means "to the last LBA"
        if (thin(lu)) {
            Bytes.putInt(page, 20, MAX_UNMAP_BLOCKS);              // MAXIMUM UNMAP LBA COUNT
            Bytes.putInt(page, 24, MAX_UNMAP_DESCRIPTORS);         // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
            Bytes.putInt(page, 28, optimalUnmapGranularity(lu));   // OPTIMAL UNMAP GRANULARITY
            Bytes.putInt(page, 32, 0x80000000L);                   // UGAVALID=1, UNMAP GRANULARITY ALIGNMENT 0
        }
        Bytes.putLong(page, 36, maxWriteSameBlocks(lu));           // MAXIMUM WRITE SAME LENGTH
    }

    /** The Logical Block Provisioning VPD page (SBC-4 6.6.6), page length 4, no provisioning group descriptor. */
    public static byte[] vpdPage(LogicalUnit lu) {
        byte[] d = new byte[8];
        d[1] = (byte) 0xB2;
        d[3] = 4;
        if (thin(lu)) {
            // THRESHOLD EXPONENT 0: no thresholds.
            d[5] = (byte) (0x80      // LBPU: UNMAP
                    | 0x40           // LBPWS: WRITE SAME(16) with UNMAP
                    | 0x20           // LBPWS10: WRITE SAME(10) with UNMAP
                    | 0x01 << 2);    // LBPRZ=001b: deallocated blocks read as zeroes; ANC_SUP=0, DP=0
            d[6] = 0x02;             // PROVISIONING TYPE: thin
        }
        return d;
    }
}
