package io.tandem.scsi.core;

import io.tandem.cluster.AccessState;

/**
 * SPC-4 asymmetric access states: the code REPORT TARGET PORT GROUPS and SET TARGET PORT GROUPS
 * use, the opcode-table flag that lets a command run in the state, and the sense a command without
 * that flag gets. The precheck reads only these three facts, so no code lists opcodes per state.
 */
public enum AluaState {
    ACTIVE_OPTIMIZED(0x0, null, null, AccessState.ACTIVE_OPTIMIZED),
    ACTIVE_NON_OPTIMIZED(0x1, null, null, AccessState.ACTIVE_NON_OPTIMIZED),
    STANDBY(0x2, CommandFlag.ALUA_STANDBY_OK, SenseReason.TARGET_PORT_IN_STANDBY_STATE, AccessState.STANDBY),
    UNAVAILABLE(0x3, CommandFlag.ALUA_UNAVAILABLE_OK, SenseReason.TARGET_PORT_IN_UNAVAILABLE_STATE, AccessState.UNAVAILABLE),
    OFFLINE(0xE, CommandFlag.ALUA_OFFLINE_OK, SenseReason.LOGICAL_UNIT_NOT_READY_OFFLINE, AccessState.OFFLINE),
    TRANSITIONING(0xF, CommandFlag.ALUA_TRANSITIONING_OK, SenseReason.ASYMMETRIC_ACCESS_STATE_TRANSITION,
            AccessState.TRANSITIONING);

    /** Target port group SUPPORT bits of REPORT TARGET PORT GROUPS for the states above: T, O, U, S, AN, AO. */
    public static final int SUPPORTED_STATES = 0x80 | 0x40 | 0x08 | 0x04 | 0x02 | 0x01;

    private final int code;
    private final CommandFlag allowedBy;
    private final SenseReason refusal;
    private final AccessState stored;

    AluaState(int code, CommandFlag allowedBy, SenseReason refusal, AccessState stored) {
        this.code = code;
        this.allowedBy = allowedBy;
        this.refusal = refusal;
        this.stored = stored;
    }

    public int code() {
        return code;
    }

    /** Whether a command with these table flags runs in this state. */
    public boolean admits(CommandDescriptor d) {
        return allowedBy == null || d.has(allowedBy);
    }

    /** The NOT READY reason for a command this state does not admit; null for the active states. */
    public SenseReason refusal() {
        return refusal;
    }

    /** Whether SET TARGET PORT GROUPS may ask for this state (SPC-4: the primary states, LBD aside). */
    public boolean explicitlySettable() {
        return code <= 0x3;
    }

    /** The state as the cluster record stores it. */
    public AccessState stored() {
        return stored;
    }

    public static AluaState of(AccessState stored) {
        return valueOf(stored.name());
    }

    /** The state with this ASYMMETRIC ACCESS STATE code, or null for a code Tandem does not support. */
    public static AluaState ofCode(int code) {
        for (AluaState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
