package io.tandem.cluster;

/**
 * The coordinator gave up on a change within its bound: the backend did not answer, every
 * compare-and-set lost a race, or a live member did not apply the change in time. Unlike a corrupt
 * record or a closed coordinator this is transient, so a command that asked for the change can be
 * answered with a sense that initiators retry.
 */
public final class CoordinatorTimeoutException extends CoordinatorException {

    public CoordinatorTimeoutException(String message) {
        super(message);
    }

    public CoordinatorTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
