package io.tandem.scsi;

import io.tandem.storage.BlockDevice;
import java.util.Objects;

/**
 * A logical unit to export. {@code name} is stable across restarts and nodes: the LU's NAA
 * identifier and unit serial number are derived from the target name and this name, so every path
 * reports the same identity.
 *
 * @param physicalBlockSize the physical block size READ CAPACITY(16) reports (as LOGICAL BLOCKS PER
 *                          PHYSICAL BLOCK EXPONENT), in bytes: 0 for one logical block per physical
 *                          block, else the logical block size times a power of two up to 2^7
 */
public record LunSpec(int number, String name, BlockDevice device, boolean readOnly, int physicalBlockSize) {

    public LunSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        if (number < 0 || number > 16383) {
            throw new IllegalArgumentException("LUN number must be 0..16383 (flat addressing), got " + number);
        }
        int ratio = physicalBlockSize == 0 ? 1 : physicalBlockSize / device.blockSize();
        if (physicalBlockSize < 0 || physicalBlockSize % device.blockSize() != 0 || Integer.bitCount(ratio) != 1
                || ratio > 128) {
            throw new IllegalArgumentException("physical block size must be 0 or the block size " + device.blockSize()
                    + " times a power of two up to 128, got " + physicalBlockSize);
        }
    }

    /** One logical block per physical block. */
    public LunSpec(int number, String name, BlockDevice device, boolean readOnly) {
        this(number, name, device, readOnly, 0);
    }

    /** log2(physical block / logical block). */
    public int logicalBlocksPerPhysicalExponent() {
        return physicalBlockSize == 0 ? 0 : Integer.numberOfTrailingZeros(physicalBlockSize / device.blockSize());
    }
}
