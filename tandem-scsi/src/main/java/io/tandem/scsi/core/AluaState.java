package io.tandem.scsi.core;

/** SPC-4 asymmetric access states, with their REPORT TARGET PORT GROUPS codes. */
public enum AluaState {
    ACTIVE_OPTIMIZED(0x0), ACTIVE_NON_OPTIMIZED(0x1), STANDBY(0x2), UNAVAILABLE(0x3), TRANSITIONING(0xF);

    private final int code;

    AluaState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
