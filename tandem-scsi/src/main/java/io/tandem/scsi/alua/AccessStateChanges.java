package io.tandem.scsi.alua;

import io.tandem.cluster.AccessState;
import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Transition;
import io.tandem.scsi.Nexus;
import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Asymmetric access state changes. The states live in the LU's cluster record
 * ({@link LuState#portGroupStates()}), so a change is a compare-and-set through the coordinator and
 * every node applies it the same way: explicit ones (SET TARGET PORT GROUPS) name the issuing
 * nexus, implicit ones (administrative, cluster membership) name none.
 */
public final class AccessStateChanges {

    /** REPORT TARGET PORT GROUPS STATUS CODE values (SPC-4). */
    public static final int STATUS_NONE = 0x00;
    public static final int STATUS_ALTERED_BY_STPG = 0x01;
    public static final int STATUS_ALTERED_IMPLICITLY = 0x02;

    private AccessStateChanges() {
    }

    /**
     * Asks for new states of some target port groups of an LU. The future completes once every
     * node has applied the new record (at once when nothing would change).
     *
     * @param issuer the nexus whose SET TARGET PORT GROUPS asks for it, or null for an implicit change
     */
    public static CompletableFuture<LuState> request(LogicalUnit lu, Map<Integer, AluaState> states,
                                                     NexusId issuer, long issuerTag) {
        Map<Integer, AccessState> wanted = new LinkedHashMap<>();
        states.forEach((group, state) -> wanted.put(group, state.stored()));
        return lu.changeState(current -> {
            LuState next = AluaPolicy.requested(current, lu.aluaMode(), wanted);
            if (next.sameContent(current)) {
                return current; // no new version, so nobody hears of a change that did not happen
            }
            Transition how = issuer == null ? Transition.NONE : Transition.by(issuer, issuerTag, List.of());
            return withStatus(current, next, issuer == null ? STATUS_ALTERED_IMPLICITLY : STATUS_ALTERED_BY_STPG, null)
                    .withTransition(how);
        });
    }

    /**
     * Brings the LU's access states in line with the cluster's membership ({@link AluaPolicy#reconcile}):
     * an implicit transition when anything changes, nothing otherwise.
     */
    public static CompletableFuture<LuState> reconcile(LogicalUnit lu, Collection<Integer> knownGroups,
                                                       Set<Integer> liveGroups) {
        Set<Integer> known = new HashSet<>(knownGroups);
        known.addAll(liveGroups);
        return lu.changeState(current -> withStatus(current,
                AluaPolicy.reconcile(current, lu.aluaMode(), knownGroups, liveGroups), STATUS_ALTERED_IMPLICITLY, known));
    }

    /**
     * {@code next} with the STATUS CODE of every group whose state it changes set to {@code code}
     * (the others keep theirs), and only the groups in {@code known} kept when not null. The code
     * lives in the record, so every node reports the same whenever it joined.
     */
    private static LuState withStatus(LuState current, LuState next, int code, Set<Integer> known) {
        Map<Integer, Integer> status = new HashMap<>(current.portGroupStatus());
        Set<Integer> groups = new HashSet<>(current.portGroupStates().keySet());
        groups.addAll(next.portGroupStates().keySet());
        for (int group : groups) {
            if (!Objects.equals(current.portGroupStates().get(group), next.portGroupStates().get(group))) {
                status.put(group, code);
            }
        }
        if (known != null) {
            status.keySet().retainAll(known);
        }
        return status.equals(next.portGroupStatus()) ? next : next.withPortGroupStatus(status);
    }

    /**
     * This node's share of applying a new record version in which access states changed: ASYMMETRIC
     * ACCESS STATE CHANGED for every nexus that sees the LU, except the one whose SET TARGET PORT
     * GROUPS made the change (SPC-4). (The STATUS CODE came with the record.)
     */
    public static void applied(LogicalUnit lu, LuState previous, LuState next, Set<Nexus> nexuses) {
        if (previous.portGroupStates().equals(next.portGroupStates())) {
            return;
        }
        NexusId issuer = next.transition().issuer();
        for (Nexus nexus : nexuses) {
            if (lu.visibleTo(nexus) && (issuer == null || !issuer.equals(NexusIds.exact(nexus)))) {
                lu.unitAttentions(nexus).establish(SenseReason.UA_ASYMMETRIC_ACCESS_STATE_CHANGED);
            }
        }
    }
}
