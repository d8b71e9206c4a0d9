package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Self-fencing ({@link ScsiTarget#fence}): while its cluster session is in doubt a node refuses
 * commands as ALUA Transitioning, reports its own target port group Transitioning, and starts no
 * backend operation for a command it had already admitted.
 */
@Timeout(30)
class FenceTest {

    private static final int BLOCK = 512;
    private static final int TRANSITIONING = 0x02040A;

    private GatedBlockDevice device;
    private ScsiTarget target;
    private Initiator alice;

    @BeforeEach
    void setUp() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, 64));
        target = new ScsiTarget("iqn.2025-01.io.tandem:fence", List.of(new LunSpec(0, "lun0", device, false)));
        target.targetPortGroups(List.of(new TargetPortGroup(1, List.of(1)), new TargetPortGroup(2, List.of(2))));
        alice = new Initiator(target, "iqn.2025-01.test:alice", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        device.open();
        target.close();
    }

    /** The access state code REPORT TARGET PORT GROUPS gives for a group. */
    private int reportedState(int group) {
        byte[] d = alice.send(0, AluaTest.rtpg(0, 256)).data();
        for (int at = 4; at < d.length; at += 8 + 4 * (d[at + 7] & 0xFF)) {
            if (((d[at + 2] & 0xFF) << 8 | (d[at + 3] & 0xFF)) == group) {
                return d[at] & 0x0F;
            }
        }
        throw new AssertionError("group " + group + " not reported");
    }

    @Test
    void aFencedNodeRefusesMediumAccessAsTransitioningAndStillIdentifiesItself() {
        target.fence(true);

        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(TRANSITIONING);
        assertThat(alice.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(TRANSITIONING);
        assertThat(alice.sendOut(0, Cdb.write10(0, 1), new byte[BLOCK]).senseCode()).isEqualTo(TRANSITIONING);
        assertThat(alice.send(0, Cdb.inquiry(false, 0, 96)).good()).isTrue();
        assertThat(alice.send(0, Cdb.reportLuns(0, 64)).good()).isTrue();
        assertThat(reportedState(1)).as("this node's group").isEqualTo(0xF);
        assertThat(reportedState(2)).as("the other node's group, as recorded").isEqualTo(0x0);
        assertThat(device.readsStarted.get()).isZero();
        assertThat(device.writeFuaFlags).isEmpty();

        target.fence(false);
        assertThat(alice.send(0, Cdb.testUnitReady()).good()).isTrue();
        assertThat(reportedState(1)).isEqualTo(0x0);
        assertThat(alice.send(0, Cdb.read10(0, 1)).good()).isTrue();
    }

    @Test
    void aWriteAdmittedBeforeTheFenceButNotYetStartedNeverReachesTheMedium() throws Exception {
        device.close(true);
        byte[] first = new byte[BLOCK];
        first[0] = 1;
        byte[] second = new byte[BLOCK];
        second[0] = 2;
        // The ORDERED write reaches the backend and is held there; the SIMPLE one queues behind it.
        ScsiTask inBackend = alice.task(0, Cdb.write10(5, 1), BLOCK, first, TaskAttribute.ORDERED);
        target.submit(inBackend);
        device.awaitStarted(1);
        ScsiTask queued = alice.task(0, Cdb.write10(6, 1), BLOCK, second, TaskAttribute.SIMPLE);
        target.submit(queued);

        target.fence(true);
        device.open();

        assertThat(alice.result(inBackend).good()).as("a committed write runs to its end").isTrue();
        assertThat(alice.result(queued).senseCode()).isEqualTo(TRANSITIONING);
        assertThat(device.writeFuaFlags).hasSize(1);

        target.fence(false);
        byte[] block6 = alice.send(0, Cdb.read10(6, 1)).data();
        assertThat(block6[0]).as("the refused write left nothing behind").isZero();
        assertThat(alice.send(0, Cdb.read10(5, 1)).data()[0]).isEqualTo((byte) 1);
    }

    /**
     * The session is lost between a PERSISTENT RESERVE OUT's precheck and its change of the record
     * (the coordinator turns not serving and refuses the update, as the ZooKeeper coordinator does
     * on SUSPENDED): the command ends as a fenced node's commands do, ASYMMETRIC ACCESS STATE
     * TRANSITION, which an initiator retries, not HARDWARE ERROR. Nothing changed.
     */
    @Test
    void aRecordChangeRefusedBecauseTheNodeJustFencedItselfIsAnsweredAsTransitioning() throws Exception {
        SessionLosingCoordinator coordinator = new SessionLosingCoordinator();
        ScsiTarget clustered = new ScsiTarget("iqn.2025-01.io.tandem:fence-race",
                List.of(new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, 64), false)), 0x001405, coordinator);
        try {
            Initiator bob = new Initiator(clustered, "iqn.2025-01.test:bob", 1).login(0);
            coordinator.loseSessionAtNextUpdate();
            Initiator.Result r = bob.sendOut(0, Pr.out(Pr.REGISTER, 0, 24), Pr.parameters(0, 0xB0B, 0));
            assertThat(r.senseCode()).isEqualTo(TRANSITIONING);
            coordinator.serving = true;
            byte[] keys = bob.send(0, Pr.in(Pr.READ_KEYS, 64)).data();
            assertThat(keys[7]).as("no key registered").isZero();
        } finally {
            clustered.close();
            coordinator.inner.close();
        }
    }

    /** The local coordinator, whose session is lost at the moment of an update when asked to. */
    private static final class SessionLosingCoordinator implements io.tandem.cluster.Coordinator {
        final io.tandem.cluster.LocalCoordinator inner = io.tandem.cluster.LocalCoordinator.inMemory();
        volatile boolean serving = true;
        private volatile boolean loseAtUpdate;

        void loseSessionAtNextUpdate() {
            loseAtUpdate = true;
        }

        @Override
        public java.util.concurrent.CompletableFuture<io.tandem.cluster.LuState> update(
                String luId, java.util.function.UnaryOperator<io.tandem.cluster.LuState> change) {
            if (loseAtUpdate) {
                loseAtUpdate = false;
                serving = false;
            }
            if (!serving) {
                return java.util.concurrent.CompletableFuture.failedFuture(
                        new io.tandem.cluster.CoordinatorException("not serving: session in doubt"));
            }
            return inner.update(luId, change);
        }

        @Override
        public boolean serving() {
            return serving;
        }

        @Override public String nodeId() { return inner.nodeId(); }
        @Override public io.tandem.cluster.LuState join(String luId, io.tandem.cluster.LuStateWatcher w) { return inner.join(luId, w); }
        @Override public io.tandem.cluster.LuState cached(String luId) { return inner.cached(luId); }
        @Override public void leave(String luId) { inner.leave(luId); }
        @Override public void announce(io.tandem.cluster.Member self) { inner.announce(self); }
        @Override public List<io.tandem.cluster.Member> members() { return inner.members(); }
        @Override public void addMembershipListener(io.tandem.cluster.MembershipListener l) { inner.addMembershipListener(l); }
        @Override public void removeMembershipListener(io.tandem.cluster.MembershipListener l) { inner.removeMembershipListener(l); }
        @Override public void addServingListener(io.tandem.cluster.ServingListener l) { inner.addServingListener(l); }
        @Override public void removeServingListener(io.tandem.cluster.ServingListener l) { inner.removeServingListener(l); }
        @Override public io.tandem.cluster.ConfigStore config() { return inner.config(); }
        @Override public void close() { }
    }
}
