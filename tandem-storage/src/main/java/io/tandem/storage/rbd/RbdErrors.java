package io.tandem.storage.rbd;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.storage.StorageException;
import java.util.concurrent.CompletionException;

/** The one translation of librbd/librados failures into storage error kinds. */
final class RbdErrors {

    private RbdErrors() {
    }

    /**
     * The storage failure for {@code failure} (unwrapped from completion wrappers) of an operation
     * that would otherwise fail as {@code otherwise} (READ_ERROR or WRITE_ERROR).
     */
    static Throwable translate(Throwable failure, StorageException.Kind otherwise, String what) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof AtomicObjects.ChangeFailed) {
            return t.getCause(); // the caller's own exception
        }
        if (t instanceof StorageException) {
            return t;
        }
        if (t instanceof IllegalStateException) {
            return new StorageException(StorageException.Kind.CLOSED, what + ": " + t.getMessage(), t);
        }
        if (t instanceof CephException e) {
            return new StorageException(kind(e.errno(), otherwise), what + ": " + e.getMessage(), e);
        }
        return new StorageException(otherwise, what + ": " + t, t);
    }

    static StorageException.Kind kind(int errno, StorageException.Kind otherwise) {
        return switch (errno) {
            case Errno.EROFS -> StorageException.Kind.WRITE_PROTECTED;
            case Errno.ENOSPC, Errno.EDQUOT -> StorageException.Kind.SPACE_EXHAUSTED;
            case Errno.EBLOCKLISTED -> StorageException.Kind.FENCED;
            case Errno.ETIMEDOUT, Errno.ENOTCONN, Errno.EAGAIN, Errno.EINTR -> StorageException.Kind.UNAVAILABLE;
            default -> otherwise;
        };
    }
}
