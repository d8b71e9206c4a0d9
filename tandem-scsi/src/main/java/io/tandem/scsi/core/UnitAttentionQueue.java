package io.tandem.scsi.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The unit attention conditions pending for one I_T nexus on one logical unit (SAM-5 5.14).
 * Conditions are de-duplicated and reported in priority order (resets first, see
 * {@link SenseReason#uaPriority()}); a reset condition supersedes the pending conditions of lower
 * priority (a reset returns the LU to its initial state, so earlier "parameters changed" news is moot).
 *
 * <p>Who reads it: the precheck reports the first condition with CHECK CONDITION on any command not
 * flagged {@link CommandFlag#UA_EXEMPT} ({@link #poll} with UA_INTLCK_CTRL=00b, {@link #peek} with
 * 10b/11b, where only REQUEST SENSE clears it); REQUEST SENSE returns it as sense data and clears it;
 * REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED.
 */
public final class UnitAttentionQueue {

    private final List<SenseReason> pending = new ArrayList<>(2);

    /** Queues {@code reason} unless it is already pending. */
    public synchronized void establish(SenseReason reason) {
        if (!reason.isUnitAttention()) {
            throw new IllegalArgumentException(reason + " is not a unit attention");
        }
        if (pending.contains(reason)) {
            return;
        }
        if (reason.isResetCondition()) {
            pending.removeIf(r -> !r.isResetCondition());
        }
        int at = 0;
        while (at < pending.size() && pending.get(at).uaPriority() <= reason.uaPriority()) {
            at++;
        }
        pending.add(at, reason);
    }

    /** Removes and returns the highest-priority condition, or null when none is pending. */
    public synchronized SenseReason poll() {
        return pending.isEmpty() ? null : pending.removeFirst();
    }

    /** The highest-priority condition, left pending; null when none is. */
    public synchronized SenseReason peek() {
        return pending.isEmpty() ? null : pending.getFirst();
    }

    /** Clears one condition if it is pending; true if it was. */
    public synchronized boolean remove(SenseReason reason) {
        return pending.remove(reason);
    }

    public synchronized List<SenseReason> pending() {
        return List.copyOf(pending);
    }

    public synchronized boolean isEmpty() {
        return pending.isEmpty();
    }

    public synchronized void clear() {
        pending.clear();
    }
}
