package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.NexusId;
import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An SPC-2 reservation ends with its holder's I_T nexus, also when the nexus was lost with no
 * chance to release it: its node died (the membership loses the node's group), or this node
 * restarted (a holder recorded on its own port that is none of its nexuses). Three groups (nodes)
 * 1, 2, 3, one port each; this target is node 1.
 */
@Timeout(30)
class Spc2NexusLossTest {

    private static final byte[] RESERVE6 = Cdb.of(0x16, 0, 0, 0, 0, 0);

    private ScsiTarget target;
    private Initiator alice;
    private Initiator carol;

    @BeforeEach
    void setUp() throws Exception {
        target = new ScsiTarget("iqn.2025-01.io.tandem:spc2-loss", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 64), false)));
        target.targetPortGroups(List.of(new TargetPortGroup(1, List.of(1)), new TargetPortGroup(2, List.of(2)),
                new TargetPortGroup(3, List.of(3))));
        target.localTargetPortGroup(1);
        members(1, 2, 3);
        alice = new Initiator(target, "iqn.2025-01.test:alice", 1).login(0);
        carol = new Initiator(target, "iqn.2025-01.test:carol", 3).login(0); // as if through node 3
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    private void members(Integer... groups) throws Exception {
        target.membership(Set.of(groups)).get(10, TimeUnit.SECONDS);
    }

    /** WRITE(10) past any unit attention (a node leaving changes access states too). */
    private int write(Initiator i) {
        Initiator.Result r = i.sendOut(0, Cdb.write10(0, 1), new byte[512]);
        for (int n = 0; n < 5 && r.status() == ScsiResponse.CHECK_CONDITION && r.senseKey() == 6; n++) {
            r = i.sendOut(0, Cdb.write10(0, 1), new byte[512]);
        }
        return r.status();
    }

    @Test
    void theReservationOfANexusOnANodeThatLeftIsReleased() throws Exception {
        assertThat(carol.send(0, RESERVE6).good()).isTrue();
        assertThat(write(alice)).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);

        members(1, 2, 3);
        assertThat(write(alice)).as("every node is live: the holder's nexus may be too").isEqualTo(ScsiResponse.RESERVATION_CONFLICT);
        members(1, 2);
        assertThat(target.logicalUnit(0).state().spc2Holder()).isNull();
        assertThat(write(alice)).as("node 3 left, and its nexus with it").isEqualTo(ScsiResponse.GOOD);
    }

    @Test
    void aHolderOnThisNodesPortThatIsNoneOfItsNexusesIsReleased() throws Exception {
        NexusId ghost = new NexusId("iqn.2025-01.test:before-the-restart,i,0x23d000000001", 1);
        target.logicalUnit(0).changeState(s -> s.withSpc2Holder(ghost)).get(10, TimeUnit.SECONDS);
        assertThat(write(alice)).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);

        members(1, 2, 3);
        assertThat(target.logicalUnit(0).state().spc2Holder()).as("lost in this node's earlier life").isNull();
        assertThat(write(alice)).isEqualTo(ScsiResponse.GOOD);

        assertThat(alice.send(0, RESERVE6).good()).isTrue();
        members(1, 2, 3);
        assertThat(target.logicalUnit(0).state().spc2Holder()).as("a live nexus of this node keeps it").isNotNull();
        assertThat(write(carol)).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);
    }
}
