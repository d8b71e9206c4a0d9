package io.tandem.ceph;

/**
 * A Ceph client library cannot be loaded on this machine. The message names the shared object
 * and the Debian package that provides it.
 */
public final class CephUnavailableException extends RuntimeException {

    CephUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
