package io.tandem.scsi.core;

/**
 * Where a block command's LBA and transfer length sit in its CDB. The precheck uses this to decode
 * the range once and check it against the capacity; handlers read the decoded values from
 * {@link Command}.
 */
public enum BlockAddressing {
    /** Not a block-addressed command. */
    NONE(0, 0, 0, 0),
    /** READ(6)/WRITE(6): 21-bit LBA in bytes 1-3, length in byte 4 where 0 means 256 blocks. */
    CDB6(1, 3, 4, 1),
    /** 32-bit LBA at byte 2, 16-bit length at byte 7. */
    CDB10(2, 4, 7, 2),
    /** 32-bit LBA at byte 2, 32-bit length at byte 6. */
    CDB12(2, 4, 6, 4),
    /** 64-bit LBA at byte 2, 32-bit length at byte 10. */
    CDB16(2, 8, 10, 4),
    /** COMPARE AND WRITE: 64-bit LBA at byte 2, NUMBER OF LOGICAL BLOCKS in byte 13. */
    COMPARE_AND_WRITE(2, 8, 13, 1),
    /** WRITE ATOMIC(16): 64-bit LBA at byte 2, 16-bit length at byte 12 (bytes 10-11: ATOMIC BOUNDARY). */
    ATOMIC16(2, 8, 12, 2);

    private final int lbaOffset;
    private final int lbaBytes;
    private final int lengthOffset;
    private final int lengthBytes;

    BlockAddressing(int lbaOffset, int lbaBytes, int lengthOffset, int lengthBytes) {
        this.lbaOffset = lbaOffset;
        this.lbaBytes = lbaBytes;
        this.lengthOffset = lengthOffset;
        this.lengthBytes = lengthBytes;
    }

    /** The LBA; for CDB16 the full unsigned 64 bits (a negative long is >= 2^63). */
    public long lba(byte[] cdb) {
        return switch (this) {
            case NONE -> 0;
            case CDB6 -> Bytes.u24(cdb, 1) & 0x1FFFFF;
            case CDB10, CDB12 -> Bytes.u32(cdb, lbaOffset);
            case CDB16, COMPARE_AND_WRITE, ATOMIC16 -> Bytes.u64(cdb, lbaOffset);
        };
    }

    /** The transfer length in blocks, as the CDB states it (READ/WRITE(6) 0 decoded as 256). */
    public long transferLength(byte[] cdb) {
        return switch (this) {
            case NONE -> 0;
            case CDB6 -> {
                int n = Bytes.u8(cdb, 4);
                yield n == 0 ? 256 : n;
            }
            case CDB10, ATOMIC16 -> Bytes.u16(cdb, lengthOffset);
            case CDB12, CDB16 -> Bytes.u32(cdb, lengthOffset);
            case COMPARE_AND_WRITE -> Bytes.u8(cdb, lengthOffset);
        };
    }

    public int lbaOffset() { return lbaOffset; }
    public int lbaBytes() { return lbaBytes; }
    public int lengthOffset() { return lengthOffset; }
    public int lengthBytes() { return lengthBytes; }
}
