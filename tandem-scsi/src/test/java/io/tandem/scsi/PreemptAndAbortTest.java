package io.tandem.scsi;

import static io.tandem.scsi.PersistentReservationTest.assertConflict;
import static io.tandem.scsi.PersistentReservationTest.assertGood;
import static io.tandem.scsi.PersistentReservationTest.assertSense;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** PREEMPT AND ABORT: the preempted nexus' tasks go through the abort engine before the command completes. */
@Timeout(30)
class PreemptAndAbortTest {

    static final int BLOCK = 512;
    static final long KA = 0xAA;
    static final long KB = 0xBB;

    GatedBlockDevice device;
    ScsiTarget target;
    Initiator a;
    Initiator b;

    @BeforeEach
    void start() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, 256));
        target = new ScsiTarget("iqn.2025-01.io.tandem:paa", List.of(new LunSpec(0, "lun0", device, false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        b = new Initiator(target, "iqn.2025-01.test:b", 1).login(0);
    }

    @AfterEach
    void stop() {
        device.open();
        target.close();
    }

    private ScsiTask submitWrite(Initiator i, long lba) {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, (byte) 7);
        ScsiTask t = i.task(0, Cdb.write10(lba, 1), BLOCK, data, TaskAttribute.SIMPLE);
        target.submit(t);
        return t;
    }

    @Test
    void thePreemptedNexusTasksAreAbortedAfterTheirBackendWriteLandsAndBeforeTheCommandCompletes() throws Exception {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, Pr.WE_RO));
        device.close(true);
        ScsiTask victim = submitWrite(a, 3);
        ScsiTask bystander = submitWrite(b, 4);
        device.awaitStarted(2);

        byte[] parameters = Pr.parameters(KB, KA, 0);
        ScsiTask preempt = b.task(0, Pr.out(Pr.PREEMPT_AND_ABORT, Pr.WE_RO, parameters.length), parameters.length,
                parameters, TaskAttribute.SIMPLE);
        target.submit(preempt);
        Thread.sleep(100);
        assertThat(b.port.ended(preempt)).as("waits for the victim's write to leave the backend").isFalse();
        assertThat(a.port.ended(victim)).isFalse();

        device.open();
        assertThat(b.port.await(preempt).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(a.port.await(victim).aborted()).isTrue();
        assertThat(b.port.await(bystander).response().status()).as("the preempting nexus keeps its tasks").isEqualTo(ScsiResponse.GOOD);
        assertThat(device.writesCompleted.get()).isEqualTo(2);

        assertSense(a.send(0, Cdb.testUnitReady()), PersistentReservationTest.UA_REGISTRATIONS_PREEMPTED);
        assertConflict(a.sendOut(0, Cdb.write10(3, 1), new byte[BLOCK]));
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(KB, Pr.WE_RO));
        assertThat(Pr.readKeys(b).keys()).containsExactly(KB);
    }

    @Test
    void withoutAReservationItAbortsThePreemptedRegistrantsTasksToo() throws Exception {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        device.close(true);
        ScsiTask victim = submitWrite(a, 9);
        device.awaitStarted(1);
        byte[] parameters = Pr.parameters(KB, KA, 0);
        ScsiTask preempt = b.task(0, Pr.out(Pr.PREEMPT_AND_ABORT, Pr.EA, parameters.length), parameters.length,
                parameters, TaskAttribute.SIMPLE);
        target.submit(preempt);
        device.open();
        assertThat(b.port.await(preempt).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(a.port.await(victim).aborted()).isTrue();
        assertThat(Pr.readReservation(b)).isNull();
    }
}
