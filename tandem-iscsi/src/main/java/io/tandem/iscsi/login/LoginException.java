package io.tandem.iscsi.login;

/** Ends a login with a non-success status; caught by {@link LoginNegotiator} and turned into a response. */
final class LoginException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient LoginStatus status;

    LoginException(LoginStatus status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    LoginStatus status() {
        return status;
    }
}
