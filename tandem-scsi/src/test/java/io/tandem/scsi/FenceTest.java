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
}
