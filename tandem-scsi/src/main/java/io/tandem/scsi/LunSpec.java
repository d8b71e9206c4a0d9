package io.tandem.scsi;

import io.tandem.storage.BlockDevice;
import java.util.Objects;

/**
 * A logical unit to export. {@code name} is stable across restarts and nodes: the LU's NAA
 * identifier and unit serial number are derived from the target name and this name, so every path
 * reports the same identity.
 *
 * @param physicalBlockSize the physical block size reported to initiators (READ CAPACITY(16)'s
 *     LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT): the logical block size, or a power-of-two
 *     multiple of it, e.g. 4096 for a "512e" LU whose initiators should align to 4 KiB
 * @param removable a removable medium (INQUIRY RMB=1): START STOP UNIT with LOEJ ejects and loads
 *     it, PREVENT ALLOW MEDIUM REMOVAL holds it in, and commands that need the medium get NOT
 *     READY while it is out. The medium state is this node's only (never shared by a cluster)
 */
public record LunSpec(int number, String name, BlockDevice device, boolean readOnly, int physicalBlockSize,
                      boolean removable) {

    public LunSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        if (number < 0 || number > 16383) {
            throw new IllegalArgumentException("LUN number must be 0..16383 (flat addressing), got " + number);
        }
        int ratio = physicalBlockSize / device.blockSize();
        if (physicalBlockSize % device.blockSize() != 0 || Integer.bitCount(ratio) != 1 || ratio > 1 << 15) {
            throw new IllegalArgumentException("physical block size " + physicalBlockSize
                    + " must be a power-of-two multiple of the logical block size " + device.blockSize());
        }
    }

    /** A fixed (non-removable) LU. */
    public LunSpec(int number, String name, BlockDevice device, boolean readOnly, int physicalBlockSize) {
        this(number, name, device, readOnly, physicalBlockSize, false);
    }

    /** A fixed LU whose physical block is its logical block. */
    public LunSpec(int number, String name, BlockDevice device, boolean readOnly) {
        this(number, name, device, readOnly, device.blockSize(), false);
    }
}
