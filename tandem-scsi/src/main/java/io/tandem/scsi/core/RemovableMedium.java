package io.tandem.scsi.core;

import io.tandem.cluster.LuState;
import io.tandem.cluster.MediumState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.Transition;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The medium of a removable logical unit (INQUIRY RMB=1), like a cartridge in a drive: loaded or
 * ejected (START STOP UNIT with LOEJ), and held in while any I_T nexus prevents its removal
 * (PREVENT ALLOW MEDIUM REMOVAL, SBC-4). Prevention belongs to the nexus that set it and ends with
 * that nexus' ALLOW, its loss (logout, dropped connection, its node leaving the cluster), a logical
 * unit reset or a target reset.
 *
 * <p>The state is the LU's, on every node of a cluster: it lives in the LU's record
 * ({@link MediumState}), so reads come from the applied record and every change is one change of
 * it, complete once every node applied it. A medium ejected through one node is out for the
 * initiators of every node, and a hold set through one node refuses an eject through any other.
 */
public final class RemovableMedium {

    private final LogicalUnit lu;

    RemovableMedium(LogicalUnit lu) {
        this.lu = lu;
    }

    /** Whether the medium is in: commands flagged {@link CommandFlag#MEDIUM_ACCESS} need it. */
    public boolean loaded() {
        return !lu.state().medium().ejected();
    }

    /** Whether any nexus, on any node, currently prevents removal. */
    public boolean removalPrevented() {
        return lu.state().medium().removalPrevented();
    }

    /**
     * Refuses with MEDIUM REMOVAL PREVENTED while any nexus prevents removal (loading too: the tray
     * stays as it is until every hold is withdrawn).
     */
    public void checkChangeAllowed() {
        checkChangeAllowed(lu.state().medium());
    }

    private static void checkChangeAllowed(MediumState m) {
        if (m.removalPrevented()) {
            throw ScsiException.of(SenseReason.MEDIUM_REMOVAL_PREVENTED);
        }
    }

    /** PREVENT=1 from {@code nexus} holds the medium in; PREVENT=0 withdraws that nexus' hold only. */
    public CompletableFuture<LuState> prevent(NexusId nexus, boolean prevent) {
        return lu.changeState(s -> s.withMedium(s.medium().withPrevention(nexus, prevent)));
    }

    /**
     * Loads ({@code true}) or ejects the medium unless removal is prevented (then the future fails
     * with MEDIUM REMOVAL PREVENTED). A load that changes something tells every other nexus, on every
     * node, NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED.
     */
    public CompletableFuture<LuState> change(boolean load, NexusId issuer, long issuerTag) {
        return lu.changeState(s -> {
            MediumState m = s.medium();
            checkChangeAllowed(m);
            if (m.ejected() != load) {
                return s; // already where it was asked to be
            }
            LuState changed = s.withMedium(m.withEjected(!load));
            return load ? changed.withTransition(Transition.by(issuer, issuerTag,
                    List.of(Notice.of(Notice.Kind.MEDIUM_LOADED, List.of())))) : changed;
        });
    }

    /**
     * The nexus is gone (I_T nexus loss, or it no longer sees the LU): its prevention ends. No change
     * is made when it held none.
     */
    public CompletableFuture<LuState> nexusLost(NexusId nexus) {
        if (!lu.state().medium().preventions().contains(nexus)) {
            return CompletableFuture.completedFuture(lu.state());
        }
        return prevent(nexus, false);
    }
}
