package io.tandem.ceph;

/**
 * A compare step ({@code cmpext}) of an operation found different bytes, so nothing of the
 * operation was applied. librados encodes it as {@code -MAX_ERRNO - offset}.
 */
public final class CompareMismatchException extends CephException {

    private final long offset;

    CompareMismatchException(String call, long offset) {
        super(call, Errno.EILSEQ, call + ": compare mismatch at byte " + offset);
        this.offset = offset;
    }

    /** The offset of the first differing byte, relative to the start of the compared extent. */
    public long offset() {
        return offset;
    }
}
