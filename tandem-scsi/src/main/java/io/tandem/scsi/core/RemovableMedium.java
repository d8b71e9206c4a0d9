package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;
import java.util.HashSet;
import java.util.Set;

/**
 * The medium of a removable logical unit (INQUIRY RMB=1), like a cartridge in a drive: loaded or
 * ejected (START STOP UNIT with LOEJ), and held in while any I_T nexus prevents its removal
 * (PREVENT ALLOW MEDIUM REMOVAL, SBC-4). Prevention belongs to the nexus that set it and ends with
 * that nexus' ALLOW, its loss (logout, dropped connection), a logical unit reset or a target reset.
 *
 * <p>The state lives on this node only: in a cluster each node has its own medium state.
 */
public final class RemovableMedium {

    /** Read without locking by the precheck of every command. */
    private volatile boolean loaded = true;
    private final Set<Nexus> preventing = new HashSet<>(); // guarded by this

    /** Whether the medium is in: commands flagged {@link CommandFlag#MEDIUM_ACCESS} need it. */
    public boolean loaded() {
        return loaded;
    }

    /** PREVENT=1 from {@code nexus} holds the medium in; PREVENT=0 withdraws that nexus' hold only. */
    public synchronized void prevent(Nexus nexus, boolean prevent) {
        if (prevent) {
            preventing.add(nexus);
        } else {
            preventing.remove(nexus);
        }
    }

    /** Whether any nexus currently prevents removal. */
    public synchronized boolean removalPrevented() {
        return !preventing.isEmpty();
    }

    /**
     * Refuses with MEDIUM REMOVAL PREVENTED while any nexus prevents removal (loading too: the tray
     * stays as it is until every hold is withdrawn).
     */
    public synchronized void checkChangeAllowed() {
        if (!preventing.isEmpty()) {
            throw ScsiException.of(SenseReason.MEDIUM_REMOVAL_PREVENTED);
        }
    }

    /**
     * Loads ({@code true}) or ejects the medium unless removal is prevented.
     *
     * @return whether the medium's state changed
     */
    public synchronized boolean change(boolean load) {
        checkChangeAllowed();
        boolean changed = loaded != load;
        loaded = load;
        return changed;
    }

    /** The nexus is gone (I_T nexus loss): its prevention ends. */
    public synchronized void nexusLost(Nexus nexus) {
        preventing.remove(nexus);
    }

    /** A logical unit or target reset: every prevention ends; the medium stays where it is. */
    public synchronized void reset() {
        preventing.clear();
    }
}
