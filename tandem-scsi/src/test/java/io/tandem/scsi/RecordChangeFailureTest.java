package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.CoordinatorException;
import io.tandem.cluster.CoordinatorTimeoutException;
import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A command whose change of the cluster record fails after its precheck admitted it: the answer
 * tells the initiator whether to retry, and nothing changed.
 */
@Timeout(30)
class RecordChangeFailureTest {

    private static final int BLOCK = 512;
    private static final int TRANSITIONING = 0x02040A;
    private static final int COMMUNICATION_TIME_OUT = 0x0B0801;
    private static final int INTERNAL_TARGET_FAILURE = 0x044400;

    private UpdateFailingCoordinator coordinator;
    private ScsiTarget target;
    private Initiator bob;

    @BeforeEach
    void setUp() {
        coordinator = new UpdateFailingCoordinator();
        target = new ScsiTarget("iqn.2025-01.io.tandem:record-change",
                List.of(new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, 64), false)), 0x001405, coordinator);
        bob = new Initiator(target, "iqn.2025-01.test:bob", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
        coordinator.close();
    }

    /** -1 for GOOD, else the sense as 0xKKAAQQ. */
    private int register(long key) {
        Initiator.Result r = bob.sendOut(0, Pr.out(Pr.REGISTER, 0, 24), Pr.parameters(0, key, 0));
        return r.good() ? -1 : r.senseCode();
    }

    private int registeredKeysLength() {
        byte[] keys = bob.send(0, Pr.in(Pr.READ_KEYS, 64)).data();
        return keys[7] & 0xFF;
    }

    /**
     * The session is lost between a PERSISTENT RESERVE OUT's precheck and its change of the record
     * (the coordinator turns not serving and refuses the update, as the ZooKeeper coordinator does
     * on SUSPENDED): the command ends as a fenced node's commands do, ASYMMETRIC ACCESS STATE
     * TRANSITION, which an initiator retries on another path.
     */
    @Test
    void aRecordChangeRefusedBecauseTheNodeJustFencedItselfIsAnsweredAsTransitioning() {
        coordinator.failNextUpdate(new CoordinatorException("not serving: session in doubt"), true);
        assertThat(register(0xB0B)).isEqualTo(TRANSITIONING);
        coordinator.serving(true);
        assertThat(registeredKeysLength()).as("no key registered").isZero();
    }

    /**
     * The cluster did not agree on the change in time while this node stays a serving member (a
     * member slow to apply, a backend slow to answer): ABORTED COMMAND, LOGICAL UNIT COMMUNICATION
     * TIME-OUT, which initiators retry; the retry goes through once the cluster answers.
     */
    @Test
    void aRecordChangeTheClusterDidNotAgreeOnInTimeIsAnsweredAsACommunicationTimeOut() {
        coordinator.failNextUpdate(new CoordinatorTimeoutException("LU lun0: no compare-and-set succeeded within PT30S"), false);
        assertThat(register(0xB0B)).isEqualTo(COMMUNICATION_TIME_OUT);
        assertThat(registeredKeysLength()).as("no key registered").isZero();
        assertThat(register(0xB0B)).as("the retry").isEqualTo(-1);
        assertThat(registeredKeysLength()).isEqualTo(8);
    }

    /** A record the coordinator cannot store at all (e.g. corrupt) stays a target failure. */
    @Test
    void aRecordChangeThatFailsOtherwiseIsAnInternalTargetFailure() {
        coordinator.failNextUpdate(new CoordinatorException("state of LU lun0 is corrupt: bad header"), false);
        assertThat(register(0xB0B)).isEqualTo(INTERNAL_TARGET_FAILURE);
        assertThat(registeredKeysLength()).isZero();
    }
}
