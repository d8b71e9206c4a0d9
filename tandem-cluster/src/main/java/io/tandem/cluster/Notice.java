package io.tandem.cluster;

import java.util.List;
import java.util.Objects;

/**
 * Something every node must do for the nexuses it serves when it applies a new version: the
 * record itself says what is true now, a notice says what happened on the way there (who was
 * preempted, whose tasks to abort), which a state comparison alone cannot tell.
 *
 * @param kind    what to do
 * @param nexuses whom it concerns; a {@link NexusId} with {@link NexusId#ALL_TARGET_PORTS} means
 *                that initiator port on every target port
 */
public record Notice(Kind kind, List<NexusId> nexuses) {

    public enum Kind {
        /** Establish unit attention REGISTRATIONS PREEMPTED. */
        REGISTRATIONS_PREEMPTED,
        /** Establish unit attention RESERVATIONS PREEMPTED. */
        RESERVATIONS_PREEMPTED,
        /** Establish unit attention RESERVATIONS RELEASED. */
        RESERVATIONS_RELEASED,
        /** Establish unit attention ASYMMETRIC ACCESS STATE CHANGED. */
        ASYMMETRIC_ACCESS_STATE_CHANGED,
        /** Establish unit attention CAPACITY DATA HAS CHANGED. */
        CAPACITY_DATA_CHANGED,
        /**
         * MODE SELECT changed the LU's mode parameters (shared by every I_T nexus): establish unit
         * attention MODE PARAMETERS CHANGED for every nexus but the issuer's. {@link #nexuses()} is empty.
         */
        MODE_PARAMETERS_CHANGED,
        /**
         * START STOP UNIT loaded the removable medium: establish unit attention NOT READY TO READY
         * CHANGE, MEDIUM MAY HAVE CHANGED for every nexus but the issuer's. {@link #nexuses()} is empty.
         */
        MEDIUM_LOADED,
        /**
         * A sanitize operation (already in the record) is about to write: acknowledge only once every
         * medium write this node had committed to before the sanitize began has ended, so none lands
         * after a pass. {@link #nexuses()} is empty.
         */
        SANITIZE_DRAIN,
        /**
         * Abort every task of these nexuses (except the task that made the change), with the task
         * aborted status semantics (TAS) of the node's Control mode page, before acknowledging.
         */
        ABORT_TASKS,
        /**
         * CLEAR TASK SET: abort every task of the LU on every node (TAS semantics towards the
         * issuer); with TAS clear, the other nexuses that lost tasks hear COMMANDS CLEARED BY
         * ANOTHER INITIATOR. {@link #nexuses()} is empty: it concerns every nexus.
         */
        CLEAR_TASK_SET,
        /**
         * LOGICAL UNIT RESET: abort every task of the LU, return the node's per-LU settings to
         * their defaults, and establish BUS DEVICE RESET FUNCTION OCCURRED for every nexus, the
         * issuer's included. {@link #nexuses()} is empty: it concerns every nexus.
         */
        LOGICAL_UNIT_RESET,
        /** TARGET WARM RESET's share for one LU: as {@link #LOGICAL_UNIT_RESET}, reported as a reset (29/00). */
        TARGET_WARM_RESET,
        /** TARGET COLD RESET's share for one LU: as {@link #LOGICAL_UNIT_RESET}, reported as power on (29/01). */
        TARGET_COLD_RESET
    }

    /** Whether this notice concerns every nexus of the LU rather than the ones it lists. */
    public boolean concernsEveryNexus() {
        return switch (kind) {
            case MODE_PARAMETERS_CHANGED, MEDIUM_LOADED, SANITIZE_DRAIN, CLEAR_TASK_SET, LOGICAL_UNIT_RESET,
                 TARGET_WARM_RESET, TARGET_COLD_RESET -> true;
            default -> false;
        };
    }

    public Notice {
        Objects.requireNonNull(kind, "kind");
        nexuses = List.copyOf(nexuses);
    }

    public static Notice of(Kind kind, List<NexusId> nexuses) {
        return new Notice(kind, nexuses);
    }
}
