package io.tandem.it.initiator;

import java.io.IOException;

/** The target ended the login with a non-success Status-Class (RFC 7143 section 11.13.5). */
public final class LoginException extends IOException {
    private final int statusClass;
    private final int statusDetail;

    public LoginException(int statusClass, int statusDetail, String message) {
        super(String.format("%s (Status-Class 0x%02x, Status-Detail 0x%02x)", message, statusClass, statusDetail));
        this.statusClass = statusClass;
        this.statusDetail = statusDetail;
    }

    public int statusClass() { return statusClass; }
    public int statusDetail() { return statusDetail; }

    /** Status-Class 2: initiator error (authentication failure is detail 0x01, authorization 0x02). */
    public boolean isInitiatorError() { return statusClass == 0x02; }
    public boolean isAuthenticationFailure() { return statusClass == 0x02 && statusDetail == 0x01; }
}
