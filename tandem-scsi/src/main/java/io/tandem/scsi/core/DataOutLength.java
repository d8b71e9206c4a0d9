package io.tandem.scsi.core;

/** The number of Data-Out bytes a CDB asks for (may depend on CDB fields and the LU's block size). */
@FunctionalInterface
public interface DataOutLength {
    long bytes(byte[] cdb, LogicalUnit lu, long transferBlocks);

    DataOutLength NONE = (cdb, lu, blocks) -> 0;
    /** One logical block per block of the transfer length. */
    DataOutLength BLOCKS = (cdb, lu, blocks) -> blocks * lu.blockSize();
}
