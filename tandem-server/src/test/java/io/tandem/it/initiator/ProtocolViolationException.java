package io.tandem.it.initiator;

/** The target broke RFC 7143 in a way the initiator could detect. Tests treat it as a target bug. */
public class ProtocolViolationException extends RuntimeException {
    public ProtocolViolationException(String message) {
        super(message);
    }
}
