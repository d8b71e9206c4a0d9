package io.tandem.iscsi.login;

/**
 * A text data segment that breaks the key=value syntax of RFC 7143 section 6.1 (no '=', key too
 * long, value too long, a key given twice, invalid UTF-8). During login this is an initiator
 * error; in full-feature phase the connection answers with a Reject PDU.
 */
public final class TextFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TextFormatException(String message) {
        super(message);
    }
}
