package io.tandem.cluster;

/** The coordinator could not read, store or agree on a record (I/O failure, lost session, corrupt state). */
public class CoordinatorException extends RuntimeException {

    public CoordinatorException(String message) {
        super(message);
    }

    public CoordinatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
