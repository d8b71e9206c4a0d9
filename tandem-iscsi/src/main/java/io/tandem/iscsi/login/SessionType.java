package io.tandem.iscsi.login;

/** The SessionType key (RFC 7143 section 13.21). */
public enum SessionType {
    NORMAL("Normal"),
    DISCOVERY("Discovery");

    private final String keyValue;

    SessionType(String keyValue) {
        this.keyValue = keyValue;
    }

    /** The value as written in the SessionType key. */
    public String keyValue() {
        return keyValue;
    }

    /** The session type named by a SessionType value, or null if the value names none. */
    public static SessionType fromKeyValue(String value) {
        for (SessionType t : values()) {
            if (t.keyValue.equals(value)) {
                return t;
            }
        }
        return null;
    }
}
