package io.tandem.ceph;

/**
 * A librados or librbd call failed: carries the errno the library returned (positive) and the
 * call that returned it. Unchecked, since every call of the binding can fail this way and most
 * callers translate it at one place (the rbd block device into storage error kinds).
 */
public class CephException extends RuntimeException {

    /** librados reports a compare mismatch as {@code -MAX_ERRNO - offset}. */
    static final int MAX_ERRNO = 4095;

    private final int errno;
    private final String call;

    public CephException(String call, int errno) {
        this(call, errno, call + " failed: " + Errno.name(errno) + " (" + Math.abs(errno) + ")");
    }

    CephException(String call, int errno, String message) {
        super(message);
        this.errno = Math.abs(errno);
        this.call = call;
    }

    /** The failure for the negative return value {@code ret} of {@code call}. */
    public static CephException of(String call, long ret) {
        if (ret <= -MAX_ERRNO) {
            return new CompareMismatchException(call, -ret - MAX_ERRNO);
        }
        return new CephException(call, (int) -ret);
    }

    /** Throws the failure when {@code ret} is negative; returns {@code ret} otherwise. */
    static long check(String call, long ret) {
        if (ret < 0) {
            throw of(call, ret);
        }
        return ret;
    }

    /** The error number, positive (e.g. 5 for EIO). */
    public int errno() {
        return errno;
    }

    /** The symbolic name of {@link #errno()}, e.g. "EIO". */
    public String errnoName() {
        return Errno.name(errno);
    }

    /** The library function that failed, e.g. "rbd_open". */
    public String call() {
        return call;
    }
}
