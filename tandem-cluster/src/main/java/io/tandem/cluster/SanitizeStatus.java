package io.tandem.cluster;

import java.util.Objects;

/**
 * Where the LU's sanitize life cycle (SBC-4 4.11) stands, as every node must know it: while one node
 * runs a sanitize operation every node refuses the commands a sanitize excludes, and after a failed
 * one every node refuses them until a sanitize succeeds (or, if allowed, EXIT FAILURE MODE).
 *
 * @param phase            idle, a sanitize operation running, or the last one failed
 * @param targetPortGroup  while {@link Phase#IN_PROGRESS}: the target port group (node) running it, so
 *                         the others can tell when it is lost with its node; 0 otherwise
 * @param progress         while {@link Phase#IN_PROGRESS}: how far it got, in 65536ths, as last published
 * @param unrestrictedExit the operation was requested with AUSE=1: after its failure EXIT FAILURE MODE
 *                         ends the failed state (with AUSE=0 only a successful sanitize does)
 */
public record SanitizeStatus(Phase phase, int targetPortGroup, int progress, boolean unrestrictedExit) {

    public enum Phase { IDLE, IN_PROGRESS, FAILED }

    /** No sanitize operation running, none failed. */
    public static final SanitizeStatus IDLE = new SanitizeStatus(Phase.IDLE, 0, 0, false);

    public SanitizeStatus {
        Objects.requireNonNull(phase, "phase");
        if (progress < 0 || progress > 0xFFFF || targetPortGroup < 0) {
            throw new IllegalArgumentException("sanitize progress " + progress + " or group " + targetPortGroup);
        }
    }

    /** A sanitize operation just started through {@code targetPortGroup}. */
    public static SanitizeStatus running(int targetPortGroup, boolean unrestrictedExit) {
        return new SanitizeStatus(Phase.IN_PROGRESS, targetPortGroup, 0, unrestrictedExit);
    }

    /** The operation ended with an error (or was lost with its node). */
    public SanitizeStatus failed() {
        return new SanitizeStatus(Phase.FAILED, 0, 0, unrestrictedExit);
    }

    public SanitizeStatus withProgress(int p) {
        return new SanitizeStatus(phase, targetPortGroup, p, unrestrictedExit);
    }

    public boolean inProgress() {
        return phase == Phase.IN_PROGRESS;
    }

    /** Whether a sanitize operation runs through this target port group now. */
    public boolean runningThrough(int group) {
        return phase == Phase.IN_PROGRESS && targetPortGroup == group;
    }
}
