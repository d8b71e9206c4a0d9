package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.AccessState;
import io.tandem.cluster.LuState;
import io.tandem.scsi.alua.AluaMode;
import io.tandem.scsi.alua.AluaPolicy;
import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Access states following the cluster's membership ({@link ScsiTarget#membership}) in the three
 * {@link AluaMode}s, and SET TARGET PORT GROUPS moving ownership. Three groups (nodes) 1, 2, 3;
 * Alice logs in through node 1's port, Bob through node 2's.
 */
@Timeout(30)
class AluaMembershipTest {

    private static final int STATE_CHANGED = 0x062A06;
    private static final int AO = 0x0, STANDBY = 0x2, UNAVAILABLE = 0x3;

    private ScsiTarget target;
    private Initiator alice;
    private Initiator bob;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:members", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 64), false)));
        target.targetPortGroups(List.of(new TargetPortGroup(1, List.of(1)), new TargetPortGroup(2, List.of(2)),
                new TargetPortGroup(3, List.of(3))));
        alice = new Initiator(target, "iqn.2025-01.test:alice", 1).login(0);
        bob = new Initiator(target, "iqn.2025-01.test:bob", 2).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    private void members(Integer... groups) throws Exception {
        target.membership(Set.of(groups)).get(10, TimeUnit.SECONDS);
    }

    private void mode(AluaMode mode) throws Exception {
        target.changeAluaMode(0, mode).get(10, TimeUnit.SECONDS);
    }

    /** Group id -> access state code, and the PREF group (0 if none), as RTPG reports them. */
    private record View(Map<Integer, Integer> states, int preferred) {
    }

    private View view(Initiator i) {
        Initiator.Result r = i.send(0, AluaTest.rtpg(0, 256));
        if (!r.good() && r.senseCode() == STATE_CHANGED) {
            r = i.send(0, AluaTest.rtpg(0, 256)); // RTPG is not UA-exempt: the first one reports the change
        }
        assertThat(r.good()).as(r.toString()).isTrue();
        byte[] d = r.data();
        Map<Integer, Integer> states = new TreeMap<>();
        int preferred = 0;
        for (int at = 4; at < d.length; at += 8 + 4 * (d[at + 7] & 0xFF)) {
            int group = (d[at + 2] & 0xFF) << 8 | (d[at + 3] & 0xFF);
            states.put(group, d[at] & 0x0F);
            if ((d[at] & 0x80) != 0) {
                preferred = group;
            }
        }
        return new View(states, preferred);
    }

    /** SET TARGET PORT GROUPS asking one state for one group, past any unit attention pending for the nexus. */
    private static Initiator.Result stpg(Initiator i, int state, int group) {
        Initiator.Result r = i.sendOut(0, AluaTest.stpg(8), AluaTest.stpgList(state, group));
        return r.status() == ScsiResponse.CHECK_CONDITION && r.senseKey() == 6
                ? i.sendOut(0, AluaTest.stpg(8), AluaTest.stpgList(state, group)) : r;
    }

    private static int owner(View v) {
        return v.states().entrySet().stream().filter(e -> e.getValue() == AO).map(Map.Entry::getKey)
                .reduce((a, b) -> { throw new AssertionError("two Active/Optimized groups in an owner mode: " + v); })
                .orElse(0);
    }

    @Test
    void activeActiveMarksADeadNodesGroupUnavailableAndRestoresItWhenTheNodeReturns() throws Exception {
        members(1, 2, 3);
        assertThat(alice.send(0, Cdb.testUnitReady()).good()).as("nothing changed: no news").isTrue();

        members(1, 2);
        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
        View v = view(alice);
        assertThat(v.states()).isEqualTo(Map.of(1, AO, 2, AO, 3, UNAVAILABLE));
        assertThat(view(bob)).as("the same answer on every path").isEqualTo(v);
        assertThat(v.preferred()).isZero();

        members(1, 2, 3);
        assertThat(view(alice).states()).isEqualTo(Map.of(1, AO, 2, AO, 3, AO));
    }

    @Test
    void activeStandbyHasOneOwnerAndASurvivorTakesOverWhenItDies() throws Exception {
        members(1, 2, 3);
        mode(AluaMode.ACTIVE_STANDBY);
        View v = view(alice);
        int owner = owner(v);
        assertThat(owner).isIn(1, 2, 3);
        assertThat(v.preferred()).isEqualTo(owner);
        assertThat(v.states().values()).containsOnly(AO, STANDBY);

        Set<Integer> survivors = new java.util.TreeSet<>(Set.of(1, 2, 3));
        survivors.remove(owner);
        members(survivors.toArray(Integer[]::new));
        View after = view(alice);
        int next = owner(after);
        assertThat(next).as("a survivor owns the LU").isIn(survivors);
        assertThat(after.states().get(owner)).isEqualTo(UNAVAILABLE);
        assertThat(after.preferred()).isEqualTo(next);

        members(1, 2, 3);
        assertThat(owner(view(alice))).as("the old owner comes back as Standby: no ping-pong").isEqualTo(next);
        assertThat(view(alice).states().get(owner)).isEqualTo(STANDBY);
    }

    @Test
    void explicitModeWaitsForTheHostToActivateASurvivor() throws Exception {
        members(1, 2, 3);
        mode(AluaMode.EXPLICIT);
        // Alice's host makes node 1 the owner, then node 1 dies.
        assertThat(stpg(alice, AO, 1).good()).isTrue();
        assertThat(owner(view(bob))).isEqualTo(1);
        members(2, 3);
        View v = view(bob);
        assertThat(v.states()).isEqualTo(Map.of(1, UNAVAILABLE, 2, STANDBY, 3, STANDBY));
        bob.send(0, Cdb.testUnitReady()); // the unit attention of the change
        assertThat(bob.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(0x02040B);

        // Bob's host activates its own path: ownership moves, cluster-wide.
        assertThat(stpg(bob, AO, 2).good()).isTrue();
        assertThat(view(bob).states()).isEqualTo(Map.of(1, UNAVAILABLE, 2, AO, 3, STANDBY));
        assertThat(view(bob).preferred()).isEqualTo(2);
        assertThat(bob.send(0, Cdb.read10(0, 1)).good()).isTrue();
    }

    @Test
    void setTargetPortGroupsMovesOwnershipInActiveStandbyMode() throws Exception {
        members(1, 2, 3);
        mode(AluaMode.ACTIVE_STANDBY);
        int owner = owner(view(alice));
        int other = owner == 1 ? 2 : 1;
        assertThat(stpg(alice, AO, other).good()).isTrue();
        View v = view(bob);
        assertThat(owner(v)).isEqualTo(other);
        assertThat(v.states().get(owner)).as("the old owner steps down").isEqualTo(STANDBY);
    }

    @Test
    void reconcileIsTheSameOnEveryNodeAndIdempotent() {
        LuState s = LuState.initial("6a4e0000deadbeef");
        LuState once = AluaPolicy.reconcile(s, AluaMode.ACTIVE_STANDBY, List.of(1, 2, 3), Set.of(1, 3));
        assertThat(AluaPolicy.reconcile(once, AluaMode.ACTIVE_STANDBY, List.of(3, 2, 1), Set.of(3, 1)).sameContent(once))
                .isTrue();
        assertThat(once.portGroupStates().get(2)).isEqualTo(AccessState.UNAVAILABLE);
        assertThat(once.aluaOwnerGroup()).isIn(1, 3);
        LuState nobody = AluaPolicy.reconcile(once, AluaMode.ACTIVE_STANDBY, List.of(1, 2, 3), Set.of());
        assertThat(nobody.aluaOwnerGroup()).as("no survivor: the owner is kept").isEqualTo(once.aluaOwnerGroup());
        assertThat(nobody.portGroupStates().values()).containsOnly(AccessState.UNAVAILABLE);
    }
}
