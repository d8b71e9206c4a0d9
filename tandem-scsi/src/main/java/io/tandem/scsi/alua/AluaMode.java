package io.tandem.scsi.alua;

import java.util.Locale;

/**
 * How a logical unit's paths share the work across the cluster's target port groups (one group per
 * node). Whatever the mode, a group whose node is not a live member reads Unavailable.
 */
public enum AluaMode {
    /** Every live node's group is Active/Optimized: the normal state of an active/active cluster. */
    ACTIVE_ACTIVE,
    /**
     * One group owns the LU (Active/Optimized, reported as preferred); every other live group is
     * Standby. When the owner's node leaves the cluster a survivor takes over at once (implicit
     * transition); SET TARGET PORT GROUPS may move ownership too.
     */
    ACTIVE_STANDBY,
    /**
     * As {@link #ACTIVE_STANDBY}, but ownership moves only when an initiator asks with SET TARGET
     * PORT GROUPS (explicit ALUA): if the owner dies, the survivors stay Standby until a host
     * activates one of them.
     */
    EXPLICIT;

    /** Whether one group owns the LU and the others are Standby. */
    public boolean hasOwner() {
        return this != ACTIVE_ACTIVE;
    }

    /** The configuration spelling: active-active, active-standby, explicit. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses {@link #configName()}; null if unknown. */
    public static AluaMode ofConfigName(String name) {
        for (AluaMode m : values()) {
            if (m.configName().equals(name)) {
                return m;
            }
        }
        return null;
    }
}
