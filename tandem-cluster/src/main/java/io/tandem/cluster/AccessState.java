package io.tandem.cluster;

/** Asymmetric access state of one target port group, as the cluster stores it. */
public enum AccessState {
    ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED, STANDBY, UNAVAILABLE, TRANSITIONING
}
