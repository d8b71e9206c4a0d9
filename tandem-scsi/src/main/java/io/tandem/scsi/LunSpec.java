package io.tandem.scsi;

import io.tandem.storage.BlockDevice;
import java.util.Objects;

/**
 * A logical unit to export. {@code name} is stable across restarts and nodes: the LU's NAA
 * identifier and unit serial number are derived from the target name and this name, so every path
 * reports the same identity.
 */
public record LunSpec(int number, String name, BlockDevice device, boolean readOnly) {

    public LunSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        if (number < 0 || number > 16383) {
            throw new IllegalArgumentException("LUN number must be 0..16383 (flat addressing), got " + number);
        }
    }
}
