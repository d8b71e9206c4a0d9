package io.tandem.scsi.alua;

import io.tandem.cluster.AccessState;
import io.tandem.cluster.LuState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The access states an LU's record should hold for the cluster as it is: pure functions of the
 * record, the LU's {@link AluaMode}, the target port groups the cluster knows and those whose node
 * is a live member. Every node computes the same answer from the same membership, so whichever node
 * compare-and-sets it first makes the change and the others find nothing left to do.
 */
public final class AluaPolicy {

    private AluaPolicy() {
    }

    /**
     * The record with its access states brought in line with the membership:
     * <ul>
     *   <li>a known group whose node is not live: Unavailable;</li>
     *   <li>{@link AluaMode#ACTIVE_ACTIVE}: a live group left Unavailable by its node's absence is
     *       Active/Optimized again (other states an initiator or administrator chose are kept); no
     *       owner;</li>
     *   <li>owner modes: with no owner, or (active/standby only) an owner whose node is gone, a live
     *       group is chosen (spread over the live groups by the LU's id, so owners of many LUs do not
     *       all land on one node); the owner is Active/Optimized, every other live group that is
     *       Active/Optimized or Unavailable becomes Standby;</li>
     *   <li>states of groups the cluster no longer knows are dropped.</li>
     * </ul>
     */
    public static LuState reconcile(LuState s, AluaMode mode, Collection<Integer> knownGroups, Set<Integer> liveGroups) {
        Set<Integer> known = new TreeSet<>(knownGroups);
        known.addAll(liveGroups);
        Map<Integer, AccessState> states = new TreeMap<>(s.portGroupStates());
        states.keySet().retainAll(known);
        int owner = s.aluaOwnerGroup();
        if (!mode.hasOwner()) {
            owner = 0;
        } else if (owner == 0 || !known.contains(owner) || (mode == AluaMode.ACTIVE_STANDBY && !liveGroups.contains(owner))) {
            int chosen = choose(s.luId(), liveGroups);
            owner = chosen != 0 ? chosen : owner;
        }
        for (int g : known) {
            AccessState current = states.getOrDefault(g, AccessState.ACTIVE_OPTIMIZED);
            if (!liveGroups.contains(g)) {
                states.put(g, AccessState.UNAVAILABLE);
            } else if (mode.hasOwner() && g == owner) {
                states.remove(g);
            } else if (mode.hasOwner()) {
                if (current == AccessState.ACTIVE_OPTIMIZED || current == AccessState.UNAVAILABLE) {
                    states.put(g, AccessState.STANDBY);
                }
            } else if (current == AccessState.UNAVAILABLE) {
                states.remove(g);
            }
        }
        return s.withPortGroupStates(states).withAluaOwnerGroup(owner);
    }

    /**
     * The record after an access state request: the requested states are applied as given. In an
     * owner mode, a group asked to be Active/Optimized (SET TARGET PORT GROUPS) also becomes the
     * owner, and the previous owner, if active and unless the same request names its state, steps down
     * to Standby.
     */
    public static LuState requested(LuState s, AluaMode mode, Map<Integer, AccessState> requested) {
        Map<Integer, AccessState> next = new TreeMap<>(s.portGroupStates());
        int owner = s.aluaOwnerGroup();
        if (mode.hasOwner()) {
            for (Map.Entry<Integer, AccessState> e : requested.entrySet()) {
                if (e.getValue() == AccessState.ACTIVE_OPTIMIZED) {
                    AccessState was = next.getOrDefault(owner, AccessState.ACTIVE_OPTIMIZED);
                    boolean active = was == AccessState.ACTIVE_OPTIMIZED || was == AccessState.ACTIVE_NON_OPTIMIZED;
                    if (owner != 0 && owner != e.getKey() && !requested.containsKey(owner) && active) {
                        next.put(owner, AccessState.STANDBY); // a dead owner stays Unavailable
                    }
                    owner = e.getKey();
                    break;
                }
            }
        }
        requested.forEach((group, state) -> {
            if (state == AccessState.ACTIVE_OPTIMIZED) {
                next.remove(group); // the default is not stored, so "back to normal" is no difference
            } else {
                next.put(group, state);
            }
        });
        return s.withPortGroupStates(next).withAluaOwnerGroup(owner);
    }

    /** A live group for an LU, the same on every node; 0 when none is live. */
    static int choose(String luId, Set<Integer> liveGroups) {
        if (liveGroups.isEmpty()) {
            return 0;
        }
        List<Integer> sorted = new ArrayList<>(new TreeSet<>(liveGroups));
        return sorted.get(Math.floorMod(luId.hashCode(), sorted.size()));
    }
}
