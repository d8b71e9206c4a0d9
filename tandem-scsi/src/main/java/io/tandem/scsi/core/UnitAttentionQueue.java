package io.tandem.scsi.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The unit attention conditions pending for one I_T nexus on one logical unit. Conditions are
 * de-duplicated and reported in priority order (resets first, see {@link SenseReason#uaPriority()});
 * a reset condition supersedes the pending conditions of lower priority it makes meaningless
 * (SAM-5: a reset re-establishes the LU's initial state, so earlier "parameters changed" news is moot).
 */
public final class UnitAttentionQueue {

    private final List<SenseReason> pending = new ArrayList<>(2);

    public synchronized void establish(SenseReason reason) {
        if (!reason.isUnitAttention()) {
            throw new IllegalArgumentException(reason + " is not a unit attention");
        }
        if (pending.contains(reason)) {
            return;
        }
        if (isReset(reason)) {
            pending.removeIf(r -> !isReset(r));
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

    public synchronized SenseReason peek() {
        return pending.isEmpty() ? null : pending.getFirst();
    }

    public synchronized List<SenseReason> pending() {
        return List.copyOf(pending);
    }

    public synchronized void clear() {
        pending.clear();
    }

    private static boolean isReset(SenseReason r) {
        return r.asc() == 0x29;
    }
}
