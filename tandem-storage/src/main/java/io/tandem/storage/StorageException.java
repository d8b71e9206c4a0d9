package io.tandem.storage;

/** A backend failure, classified so the SCSI layer can map it to sense in one table. */
public final class StorageException extends RuntimeException {

    public enum Kind {
        /** The range lies past the end of the device. */
        OUT_OF_RANGE,
        /** The store refuses writes. */
        WRITE_PROTECTED,
        /** Reading the medium failed. */
        READ_ERROR,
        /** Writing the medium failed. */
        WRITE_ERROR,
        /** The store is out of space (thin provisioning exhausted). */
        SPACE_EXHAUSTED,
        /** The device was closed. */
        CLOSED,
        /**
         * The shared store refuses this node because the cluster fenced it (Ceph: the client was
         * blocklisted): another path to the same storage must take over.
         */
        FENCED,
        /** The store did not answer in time or cannot be reached; the command may succeed if retried. */
        UNAVAILABLE
    }

    private final Kind kind;

    public StorageException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public StorageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
