package io.tandem.scsi.core;

/**
 * The sanitize life cycle of one logical unit (SBC-4 4.11). A sanitize operation belongs to the
 * LU, not to the SANITIZE command that started it: it keeps running when that command is
 * aborted, across LU and target resets and I_T nexus loss, and while it runs every command except
 * INQUIRY, REPORT LUNS and REQUEST SENSE is refused with NOT READY, SANITIZE IN PROGRESS. If it
 * fails, those commands get MEDIUM ERROR, SANITIZE COMMAND FAILED until a sanitize completes
 * without error or, when the failed one allowed it (AUSE=1), EXIT FAILURE MODE is requested.
 */
public final class SanitizeState {

    public enum Phase { IDLE, IN_PROGRESS, FAILED }

    private Phase phase = Phase.IDLE;       // guarded by this
    private boolean unrestrictedExit;       // guarded by this: AUSE of the operation that failed
    private volatile int progress;          // 0..65535 of the running operation

    public synchronized Phase phase() {
        return phase;
    }

    /** How far the running operation has got, as a fraction of 65536. */
    public int progress() {
        return progress;
    }

    public void progress(long done, long total) {
        progress = total <= 0 ? 0 : (int) Math.min(0xFFFF, done * 0x10000 / total);
    }

    /**
     * The precheck's gate. Commands flagged {@link CommandFlag#RUNS_DURING_SANITIZE} never get
     * here; {@code sanitizeCommand} is true for SANITIZE itself, which may leave a failed state.
     */
    public synchronized void check(boolean sanitizeCommand) {
        switch (phase) {
            case IDLE -> { }
            case IN_PROGRESS -> throw ScsiException.withProgress(SenseReason.SANITIZE_IN_PROGRESS, progress);
            case FAILED -> {
                if (!sanitizeCommand) {
                    throw ScsiException.of(SenseReason.SANITIZE_COMMAND_FAILED);
                }
            }
        }
    }

    /**
     * Claims the LU for a new sanitize operation; false if one is already running. Entering
     * IN_PROGRESS is what makes the precheck refuse every later command.
     */
    public synchronized boolean begin() {
        if (phase == Phase.IN_PROGRESS) {
            return false;
        }
        phase = Phase.IN_PROGRESS;
        progress = 0;
        return true;
    }

    /** Ends the running operation: IDLE on success, FAILED (remembering AUSE) otherwise. */
    public synchronized void end(boolean succeeded, boolean allowUnrestrictedExit) {
        phase = succeeded ? Phase.IDLE : Phase.FAILED;
        unrestrictedExit = !succeeded && allowUnrestrictedExit;
        progress = 0;
    }

    /**
     * EXIT FAILURE MODE: leaves a failed state that allows it. Returns false when the failed
     * operation was requested in restricted completion mode (AUSE=0), which only a successful
     * sanitize can end; with nothing failed there is nothing to leave and it succeeds.
     */
    public synchronized boolean exitFailureMode() {
        if (phase == Phase.FAILED && !unrestrictedExit) {
            return false;
        }
        if (phase == Phase.FAILED) {
            phase = Phase.IDLE;
        }
        return true;
    }
}
