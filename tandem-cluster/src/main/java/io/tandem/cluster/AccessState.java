package io.tandem.cluster;

/**
 * Asymmetric access state of one target port group, as the cluster stores it. OFFLINE is SPC-4's
 * secondary state; with one target port per group Tandem keeps it per group like the others.
 */
public enum AccessState {
    ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED, STANDBY, UNAVAILABLE, TRANSITIONING, OFFLINE
}
