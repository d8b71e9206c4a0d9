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
            return next.withTransition(how);
        });
    }

    /**
     * Brings the LU's access states in line with the cluster's membership ({@link AluaPolicy#reconcile}):
     * an implicit transition when anything changes, nothing otherwise.
     */
    public static CompletableFuture<LuState> reconcile(LogicalUnit lu, Collection<Integer> knownGroups,
                                                       Set<Integer> liveGroups) {
        return lu.changeState(current -> AluaPolicy.reconcile(current, lu.aluaMode(), knownGroups, liveGroups));
    }

    /**
     * This node's share of applying a new record version: for every target port group whose state
     * changed, record how (STATUS CODE) and establish ASYMMETRIC ACCESS STATE CHANGED for every
     * nexus that sees the LU, except the one whose SET TARGET PORT GROUPS made the change (SPC-4).
     */
    public static void applied(LogicalUnit lu, LuState previous, LuState next, Set<Nexus> nexuses) {
        if (previous.portGroupStates().equals(next.portGroupStates())) {
            return;
        }
        NexusId issuer = next.transition().issuer();
        int status = issuer == null ? STATUS_ALTERED_IMPLICITLY : STATUS_ALTERED_BY_STPG;
        Set<Integer> groups = new HashSet<>(previous.portGroupStates().keySet());
        groups.addAll(next.portGroupStates().keySet());
        Map<Integer, Integer> codes = new HashMap<>();
        for (int group : groups) {
            boolean changed = !Objects.equals(previous.portGroupStates().get(group), next.portGroupStates().get(group));
            int code = changed ? status : lu.portGroupStatus(group);
            if (code != STATUS_NONE) {
                codes.put(group, code);
            }
        }
        lu.portGroupStatus(codes);
        for (Nexus nexus : nexuses) {
            if (lu.visibleTo(nexus) && (issuer == null || !issuer.equals(NexusIds.exact(nexus)))) {
                lu.unitAttentions(nexus).establish(SenseReason.UA_ASYMMETRIC_ACCESS_STATE_CHANGED);
            }
        }
    }
}
