package io.tandem.cluster;

import java.util.Objects;

/**
 * The persistent reservation of a logical unit (scope is always the whole LU).
 *
 * @param holder the nexus that established it (for All Registrants types every registrant holds
 *               it; the holder is then only where it came from). Its registration's key is the
 *               reservation key.
 */
public record PersistentReservation(NexusId holder, ReservationType type) {

    public PersistentReservation {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(type, "type");
    }
}
