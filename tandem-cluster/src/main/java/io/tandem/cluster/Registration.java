package io.tandem.cluster;

import java.util.Objects;

/**
 * One persistent reservation registration: a nexus (or an initiator port on all target ports)
 * and its reservation key. Keys are 64-bit values compared bit for bit; 0 is never registered.
 */
public record Registration(NexusId nexus, long key) {

    public Registration {
        Objects.requireNonNull(nexus, "nexus");
        if (key == 0) {
            throw new IllegalArgumentException("reservation key 0 cannot be registered");
        }
    }

    public Registration withKey(long newKey) {
        return new Registration(nexus, newKey);
    }
}
