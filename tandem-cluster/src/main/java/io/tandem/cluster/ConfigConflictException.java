package io.tandem.cluster;

/** A {@link ConfigStore} compare-and-set found another version than the one expected. */
public class ConfigConflictException extends CoordinatorException {

    private final long actualVersion;

    public ConfigConflictException(String key, long expected, long actual) {
        super("config " + key + ": expected version " + expected + ", found " + (actual == ConfigStore.ABSENT ? "none" : actual));
        this.actualVersion = actual;
    }

    /** The version found ({@link ConfigStore#ABSENT} when the key does not exist). */
    public long actualVersion() {
        return actualVersion;
    }
}
