package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.SanitizeStatus;
import io.tandem.cluster.Transition;
import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The medium state the LU's record keeps for nexuses and nodes that may be gone: a medium removal
 * prevention ends with its I_T nexus, also when the nexus was lost with its node (the membership
 * loses the node's group) or in an earlier life of this node; a sanitize operation whose node is
 * lost has failed. And a TARGET COLD RESET issued through another node closes this node's sessions.
 * Three groups (nodes) 1, 2, 3, one port each; this target is node 1, as in {@link Spc2NexusLossTest}.
 */
@Timeout(30)
class MediumNexusLossTest {

    private static final int REMOVABLE = 0;
    private static final int FIXED = 1;
    private static final byte[] EJECT = Cdb.of(0x1B, 0, 0, 0, 0x02, 0);
    private static final byte[] LOAD = Cdb.of(0x1B, 0, 0, 0, 0x03, 0);
    private static final byte[] PREVENT = Cdb.of(0x1E, 0, 0, 0, 1, 0);
    private static final int REMOVAL_PREVENTED = 0x055302;
    private static final int SANITIZE_IN_PROGRESS = 0x02041B;
    private static final int SANITIZE_FAILED = 0x033103;

    private ScsiTarget target;
    private Initiator alice;
    private Initiator carol;

    @BeforeEach
    void setUp() throws Exception {
        target = new ScsiTarget("iqn.2025-01.io.tandem:medium-loss", List.of(
                new LunSpec(REMOVABLE, "cartridge", new MemoryBlockDevice(512, 64), false, 512, true),
                new LunSpec(FIXED, "disk", new MemoryBlockDevice(512, 64), false)));
        target.targetPortGroups(List.of(new TargetPortGroup(1, List.of(1)), new TargetPortGroup(2, List.of(2)),
                new TargetPortGroup(3, List.of(3))));
        target.localTargetPortGroup(1);
        members(1, 2, 3);
        alice = new Initiator(target, "iqn.2025-01.test:alice", 1).login(REMOVABLE, FIXED);
        carol = new Initiator(target, "iqn.2025-01.test:carol", 3).login(REMOVABLE, FIXED); // as if through node 3
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    private void members(Integer... groups) throws Exception {
        target.membership(Set.of(groups)).get(10, TimeUnit.SECONDS);
    }

    /** The command's outcome past any unit attention (a node leaving changes access states too): -1 for GOOD. */
    private static int outcome(Initiator i, int lun, byte[] cdb) {
        Initiator.Result r = i.send(lun, cdb);
        for (int n = 0; n < 5 && r.status() == ScsiResponse.CHECK_CONDITION && r.senseKey() == 6; n++) {
            r = i.send(lun, cdb);
        }
        return r.good() ? -1 : r.senseCode();
    }

    private void record(java.util.function.UnaryOperator<io.tandem.cluster.MediumState> change) throws Exception {
        target.logicalUnit(REMOVABLE).changeState(s -> s.withMedium(change.apply(s.medium()))).get(10, TimeUnit.SECONDS);
    }

    @Test
    void thePreventionOfANexusOnANodeThatLeftEnds() throws Exception {
        assertThat(outcome(carol, REMOVABLE, PREVENT)).isEqualTo(-1);
        assertThat(outcome(alice, REMOVABLE, EJECT)).isEqualTo(REMOVAL_PREVENTED);
        members(1, 2, 3);
        assertThat(outcome(alice, REMOVABLE, EJECT)).as("every node is live: the holder may be too").isEqualTo(REMOVAL_PREVENTED);

        members(1, 2);
        assertThat(target.logicalUnit(REMOVABLE).state().medium().preventions()).as("node 3 left, its nexus with it").isEmpty();
        assertThat(outcome(alice, REMOVABLE, EJECT)).isEqualTo(-1);
        assertThat(outcome(alice, REMOVABLE, Cdb.testUnitReady())).isEqualTo(0x023A00);
    }

    @Test
    void aPreventionOnThisNodesPortByNoneOfItsNexusesEndsButALiveNexusKeepsIts() throws Exception {
        NexusId ghost = new NexusId("iqn.2025-01.test:before-the-restart,i,0x23d000000001", 1);
        record(m -> m.withPrevention(ghost, true));
        assertThat(outcome(alice, REMOVABLE, EJECT)).isEqualTo(REMOVAL_PREVENTED);
        members(1, 2, 3);
        assertThat(outcome(alice, REMOVABLE, EJECT)).as("lost in this node's earlier life").isEqualTo(-1);
        assertThat(outcome(alice, REMOVABLE, LOAD)).isEqualTo(-1);

        assertThat(outcome(alice, REMOVABLE, PREVENT)).isEqualTo(-1);
        members(1, 2, 3);
        assertThat(outcome(carol, REMOVABLE, EJECT)).as("a live nexus of this node keeps its hold").isEqualTo(REMOVAL_PREVENTED);
        target.nexusRemoved(alice.nexus).get(10, TimeUnit.SECONDS);
        assertThat(outcome(carol, REMOVABLE, EJECT)).as("until its loss").isEqualTo(-1);
    }

    @Test
    void aSanitizeRunningOnANodeThatLeftHasFailed() throws Exception {
        record(m -> m.withSanitize(SanitizeStatus.running(3, false).withProgress(0x8000)));
        Initiator.Result tur = carol.send(FIXED, Cdb.testUnitReady());
        assertThat(tur.good()).as("another LU").isTrue();
        tur = alice.send(REMOVABLE, Cdb.testUnitReady());
        assertThat(tur.senseCode()).isEqualTo(SANITIZE_IN_PROGRESS);
        assertThat(tur.sense()[15] & 0x80).as("SKSV").isEqualTo(0x80);
        assertThat(((tur.sense()[16] & 0xFF) << 8) | (tur.sense()[17] & 0xFF)).as("the progress node 3 published").isEqualTo(0x8000);
        members(1, 2, 3);
        assertThat(outcome(alice, REMOVABLE, Cdb.testUnitReady())).as("node 3 may still run it").isEqualTo(SANITIZE_IN_PROGRESS);

        members(1, 2);
        assertThat(outcome(alice, REMOVABLE, Cdb.testUnitReady())).as("lost with its node").isEqualTo(SANITIZE_FAILED);
        assertThat(outcome(alice, REMOVABLE, Cdb.read10(0, 1))).isEqualTo(SANITIZE_FAILED);
        // Requested with AUSE=0: EXIT FAILURE MODE cannot end it, a successful sanitize does.
        assertThat(outcome(alice, REMOVABLE, SanitizeTest.sanitize(0x1F, false, false, 0))).isEqualTo(0x052400);
        assertThat(outcome(alice, REMOVABLE, SanitizeTest.sanitize(0x02, false, false, 0))).isEqualTo(-1);
        assertThat(outcome(alice, REMOVABLE, Cdb.testUnitReady())).isEqualTo(-1);
    }

    @Test
    void aSanitizeRecordedForThisNodeThatItDoesNotRunHasFailed() throws Exception {
        record(m -> m.withSanitize(SanitizeStatus.running(1, true)));
        members(1, 2, 3);
        assertThat(outcome(carol, REMOVABLE, Cdb.testUnitReady())).as("this node restarted in the middle of it")
                .isEqualTo(SANITIZE_FAILED);
        assertThat(outcome(carol, REMOVABLE, SanitizeTest.sanitize(0x1F, false, false, 0))).as("AUSE=1: EXIT FAILURE MODE")
                .isEqualTo(-1);
        assertThat(outcome(carol, REMOVABLE, Cdb.testUnitReady())).isEqualTo(-1);
    }

    @Test
    void aColdResetThroughAnotherNodeClosesThisNodesSessionsOnceAndOnlyThen() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        target.addColdResetListener(closed::incrementAndGet);
        // Through this node: its fabric closes its sessions after the response; nothing to do here.
        assertThat(target.taskManagement(alice.nexus, TaskManagementFunction.TARGET_COLD_RESET, Initiator.lunField(FIXED), 0)
                .get(10, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(closed).hasValue(0);
        assertThat(outcome(alice, FIXED, Cdb.testUnitReady())).isEqualTo(-1);

        // Through node 2 (a nexus this node does not have): one change per LU, the sessions close once.
        Transition reset = Transition.by(new NexusId("iqn.2025-01.test:bob,i,0x23d000000001", 2), -77,
                List.of(Notice.of(Notice.Kind.TARGET_COLD_RESET, List.of())));
        for (int lun : new int[]{REMOVABLE, FIXED}) {
            target.logicalUnit(lun).changeState(s -> s.withResetEpoch(s.resetEpoch() + 1).withTransition(reset))
                    .get(10, TimeUnit.SECONDS);
        }
        assertThat(closed).hasValue(1);
        Initiator.Result tur = alice.send(FIXED, Cdb.testUnitReady());
        assertThat(tur.senseCode()).as("POWER ON OCCURRED").isEqualTo(0x062901);
    }
}
