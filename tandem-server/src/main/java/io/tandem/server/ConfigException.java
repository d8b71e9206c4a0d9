package io.tandem.server;

/** Bad configuration: names the field so the operator can fix it from one line. */
public final class ConfigException extends RuntimeException {

    private final String field;

    public ConfigException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
