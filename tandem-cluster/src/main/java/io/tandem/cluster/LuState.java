package io.tandem.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The state of one logical unit that every node must agree on, as one immutable versioned record.
 * It changes only through {@link Coordinator#update}, which compare-and-sets it on
 * {@link #version()}; the I/O path reads a node's cached copy.
 *
 * @param luId               cluster-wide LU identity (the NAA designator in hex)
 * @param version            increases by one with every change; set by the coordinator
 * @param prGeneration       PRGENERATION: counts PERSISTENT RESERVE OUT changes (32 bits on the wire)
 * @param aptpl              the last registration asked for Activate Persist Through Power Loss:
 *                           registrations and reservation survive a restart
 * @param registrations      registered nexuses and their keys, in registration order (READ KEYS order)
 * @param reservation        the persistent reservation, or null
 * @param spc2Holder         the nexus holding an SPC-2 RESERVE(6/10) reservation, or null
 * @param aluaOwnerGroup     the target port group that owns the LU (reported as preferred), 0 for none
 * @param portGroupStates    asymmetric access state per target port group id (absent: the group's default)
 * @param portGroupStatus    REPORT TARGET PORT GROUPS STATUS CODE per target port group id: how its state
 *                           last changed (1: SET TARGET PORT GROUPS, 2: implicitly; absent: never), kept
 *                           in the record so every path reports the same
 * @param resetEpoch         increases with every LOGICAL UNIT RESET, so every node resets its share
 * @param capacityBlocks     the LU's capacity in logical blocks as last resized, 0 while the device decides
 * @param modeParameters     the LU's current changeable mode parameters, shared by every I_T nexus on every
 *                           node, in the SCSI layer's encoding (opaque here); 0 stands for their defaults,
 *                           which is also what a reset or power loss returns them to (none are saveable)
 * @param medium             the medium: a removable one ejected or not and who prevents its removal, and the
 *                           sanitize life cycle (not durable: a power loss loads the medium and ends every hold)
 * @param transition         what the change that produced this version asks every node to do
 */
public record LuState(String luId, long version, long prGeneration, boolean aptpl,
                      List<Registration> registrations, PersistentReservation reservation,
                      NexusId spc2Holder, int aluaOwnerGroup, Map<Integer, AccessState> portGroupStates,
                      Map<Integer, Integer> portGroupStatus, long resetEpoch, long capacityBlocks, long modeParameters, MediumState medium,
                      Transition transition) {

    public LuState {
        Objects.requireNonNull(luId, "luId");
        registrations = List.copyOf(registrations);
        portGroupStates = Map.copyOf(portGroupStates);
        portGroupStatus = Map.copyOf(portGroupStatus);
        Objects.requireNonNull(medium, "medium");
        Objects.requireNonNull(transition, "transition");
        if (version < 0 || prGeneration < 0 || resetEpoch < 0 || capacityBlocks < 0) {
            throw new IllegalArgumentException("negative counter in " + luId);
        }
    }

    /** The record of an LU nobody has changed yet (version 0). */
    public static LuState initial(String luId) {
        return new LuState(luId, 0, 0, false, List.of(), null, null, 0, Map.of(), Map.of(), 0, 0, 0, MediumState.INITIAL, Transition.NONE);
    }

    // ---------------------------------------------------------------- queries

    /** The registration of exactly this nexus id, or null. */
    public Registration registration(NexusId nexus) {
        for (Registration r : registrations) {
            if (r.nexus().equals(nexus)) {
                return r;
            }
        }
        return null;
    }

    public boolean hasRegistrations() {
        return !registrations.isEmpty();
    }

    /** Port group states in ascending group id order (for stable rendering). */
    public Map<Integer, AccessState> sortedPortGroupStates() {
        return new TreeMap<>(portGroupStates);
    }

    /**
     * The part of the record that survives a power loss (SPC-4): the generation always, and the
     * registrations and reservation only while APTPL is in effect. A coordinator persisting to
     * local disk writes exactly this.
     */
    public LuState durable() {
        LuState blank = initial(luId);
        return aptpl
                ? new LuState(luId, version, prGeneration, true, registrations, reservation, null, 0, Map.of(), Map.of(), 0, 0, 0, MediumState.INITIAL, Transition.NONE)
                : new LuState(luId, version, prGeneration, false, blank.registrations, null, null, 0, Map.of(), Map.of(), 0, 0, 0, MediumState.INITIAL, Transition.NONE);
    }

    /**
     * The record after the whole target lost power and came back (a cluster with no live node that
     * starts again): registrations and reservation stay only while APTPL is in effect (SPC-4), the
     * SPC-2 reservation and the mode parameters are gone; the LU's capacity, ALUA ownership and
     * reset epoch are the LU's configuration and history and stay.
     */
    public LuState afterPowerLoss() {
        LuState kept = aptpl ? this : withRegistrations(List.of()).withReservation(null);
        return kept.withSpc2Holder(null).withModeParameters(0).withMedium(MediumState.INITIAL).withTransition(Transition.NONE);
    }

    /** Same record apart from version and transition. */
    public boolean sameContent(LuState other) {
        return withVersion(0).withTransition(Transition.NONE)
                .equals(other.withVersion(0).withTransition(Transition.NONE));
    }

    // ---------------------------------------------------------------- withers

    public LuState withVersion(long v) {
        return new LuState(luId, v, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withPrGeneration(long g) {
        return new LuState(luId, version, g, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    /** PRGENERATION + 1, wrapping at 32 bits as the wire field does. */
    public LuState nextPrGeneration() {
        return withPrGeneration((prGeneration + 1) & 0xFFFF_FFFFL);
    }

    public LuState withAptpl(boolean a) {
        return new LuState(luId, version, prGeneration, a, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withRegistrations(List<Registration> list) {
        return new LuState(luId, version, prGeneration, aptpl, list, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    /** Adds a registration at the end, or replaces the key of the nexus' existing one in place. */
    public LuState withRegistration(Registration registration) {
        List<Registration> list = new ArrayList<>(registrations);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).nexus().equals(registration.nexus())) {
                list.set(i, registration);
                return withRegistrations(list);
            }
        }
        list.add(registration);
        return withRegistrations(list);
    }

    public LuState withoutRegistration(NexusId nexus) {
        List<Registration> list = new ArrayList<>(registrations);
        list.removeIf(r -> r.nexus().equals(nexus));
        return withRegistrations(list);
    }

    public LuState withReservation(PersistentReservation r) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, r, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withSpc2Holder(NexusId holder) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withAluaOwnerGroup(int group) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, group,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withPortGroupStates(Map<Integer, AccessState> states) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                states, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withPortGroupState(int group, AccessState state) {
        Map<Integer, AccessState> m = new TreeMap<>(portGroupStates);
        m.put(group, state);
        return withPortGroupStates(m);
    }

    public LuState withPortGroupStatus(Map<Integer, Integer> status) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, status, resetEpoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withResetEpoch(long epoch) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, epoch, capacityBlocks, modeParameters, medium, transition);
    }

    public LuState withCapacityBlocks(long blocks) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, blocks, modeParameters, medium, transition);
    }

    public LuState withModeParameters(long encoded) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, encoded, medium, transition);
    }

    public LuState withMedium(MediumState m) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, m, transition);
    }

    public LuState withTransition(Transition t) {
        return new LuState(luId, version, prGeneration, aptpl, registrations, reservation, spc2Holder, aluaOwnerGroup,
                portGroupStates, portGroupStatus, resetEpoch, capacityBlocks, modeParameters, medium, t);
    }
}
