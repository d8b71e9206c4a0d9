package io.tandem.it.initiator;

import java.util.Objects;

/**
 * One SCSI command to send. {@code expectedLength} is the Expected Data Transfer Length; for writes
 * it must equal the data length unless a test deliberately lies about it.
 *
 * @param taskAttribute SAM task attribute: 0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA
 */
public record ScsiRequest(int lun, byte[] cdb, DataDirection direction, int expectedLength, byte[] writeData,
                          int taskAttribute) {
    public static final int SIMPLE = 1;
    public static final int ORDERED = 2;
    public static final int HEAD_OF_QUEUE = 3;

    public ScsiRequest {
        Objects.requireNonNull(cdb);
        Objects.requireNonNull(direction);
        if (cdb.length > 16) {
            throw new IllegalArgumentException("CDBs above 16 bytes need an AHS; not supported");
        }
        if (direction == DataDirection.WRITE) {
            Objects.requireNonNull(writeData, "write needs data");
        }
    }

    public static ScsiRequest none(int lun, byte[] cdb) {
        return new ScsiRequest(lun, cdb, DataDirection.NONE, 0, null, SIMPLE);
    }

    public static ScsiRequest read(int lun, byte[] cdb, int length) {
        return new ScsiRequest(lun, cdb, DataDirection.READ, length, null, SIMPLE);
    }

    public static ScsiRequest write(int lun, byte[] cdb, byte[] data) {
        return new ScsiRequest(lun, cdb, DataDirection.WRITE, data.length, data, SIMPLE);
    }

    public ScsiRequest withTaskAttribute(int attribute) {
        return new ScsiRequest(lun, cdb, direction, expectedLength, writeData, attribute);
    }
}
