package io.tandem.cluster;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the cluster-wide configuration store: a key, its bytes, and its version (1 when first
 * created, +1 per change). The version is what {@link ConfigStore#put} compares against.
 */
public record ConfigEntry(String key, long version, byte[] value) {

    public ConfigEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        value = value.clone();
        if (version < 1) {
            throw new IllegalArgumentException("config versions start at 1: " + version);
        }
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigEntry e && e.key.equals(key) && e.version == version && Arrays.equals(e.value, value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, version, Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return "ConfigEntry[" + key + " v" + version + ", " + value.length + " bytes]";
    }
}
