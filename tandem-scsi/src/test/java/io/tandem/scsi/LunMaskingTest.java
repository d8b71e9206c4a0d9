package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.storage.MemoryBlockDevice;
import io.tandem.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * LUN masking and the live inventory: per-initiator visibility through every path that names a
 * LUN, and REPORTED LUNS DATA HAS CHANGED exactly for the nexuses whose inventory changed.
 */
@Timeout(30)
class LunMaskingTest {

    private static final String ALICE = "iqn.2025-01.test:alice";
    private static final String BOB = "iqn.2025-01.test:bob";
    private static final int REPORTED_LUNS_CHANGED = 0x063F0E;
    private static final int LUN_NOT_SUPPORTED = 0x052500;

    private ScsiTarget target;
    private Initiator alice;
    private Initiator bob;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:masking", List.of(
                new LunSpec(0, "shared", new MemoryBlockDevice(512, 64), false),
                new LunSpec(1, "alice-only", new MemoryBlockDevice(512, 64), false)));
        target.changeAcl(1, LunAcl.only(List.of(ALICE)));
        alice = new Initiator(target, ALICE, 1).login(0, 1);
        bob = new Initiator(target, BOB, 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    private static List<Integer> luns(Initiator.Result reportLuns) {
        assertThat(reportLuns.good()).as("REPORT LUNS %s", reportLuns).isTrue();
        byte[] d = reportLuns.data();
        int length = ((d[0] & 0xFF) << 24) | ((d[1] & 0xFF) << 16) | ((d[2] & 0xFF) << 8) | (d[3] & 0xFF);
        List<Integer> out = new ArrayList<>();
        for (int at = 8; at < 8 + length; at += 8) {
            out.add(((d[at] & 0x3F) << 8) | (d[at + 1] & 0xFF));
        }
        return out;
    }

    @Test
    void reportLunsListsOnlyWhatTheInitiatorMaySee() {
        assertThat(luns(alice.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0, 1);
        assertThat(luns(bob.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0);
        // Addressed to the masked LUN itself, REPORT LUNS still answers with the nexus' own inventory.
        assertThat(luns(bob.send(1, Cdb.reportLuns(2, 256)))).containsExactly(0);
    }

    @Test
    void aMaskedLunLooksExactlyLikeAMissingOne() {
        for (int lun : new int[] {1, 7}) { // 1 is masked for Bob, 7 does not exist
            Initiator.Result inquiry = bob.send(lun, Cdb.inquiry(false, 0, 96));
            assertThat(inquiry.good()).isTrue();
            assertThat(inquiry.data()[0] & 0xFF).as("PQ 011b, type 1Fh").isEqualTo(0x7F);
            assertThat(bob.send(lun, Cdb.inquiry(true, 0x83, 255)).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
            assertThat(bob.send(lun, Cdb.testUnitReady()).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
            assertThat(bob.send(lun, Cdb.read10(0, 1)).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
            assertThat(bob.sendOut(lun, Cdb.write10(0, 1), new byte[512]).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
            byte[] sense = bob.send(lun, Cdb.requestSense(18)).data();
            assertThat(sense[2] & 0x0F).isEqualTo(0x05);
            assertThat(sense[12] & 0xFF).isEqualTo(0x25);
            assertThat(tmf(bob, TaskManagementFunction.ABORT_TASK_SET, lun)).isEqualTo(TaskManagementResult.LUN_DOES_NOT_EXIST);
            assertThat(tmf(bob, TaskManagementFunction.LOGICAL_UNIT_RESET, lun)).isEqualTo(TaskManagementResult.LUN_DOES_NOT_EXIST);
        }
        assertThat(alice.send(1, Cdb.inquiry(false, 0, 96)).data()[0]).isZero();
        assertThat(alice.send(1, Cdb.read10(0, 1)).good()).isTrue();
        assertThat(tmf(alice, TaskManagementFunction.ABORT_TASK_SET, 1)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
    }

    @Test
    void initiatorNamesCompareCaseInsensitively() {
        Initiator shouting = new Initiator(target, ALICE.toUpperCase(), 2).login(0, 1);
        assertThat(luns(shouting.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0, 1);
        assertThat(shouting.send(1, Cdb.read10(0, 1)).good()).isTrue();
    }

    @Test
    void loginEstablishesPowerOnOnlyOnVisibleLuns() {
        Initiator carol = new Initiator(target, "iqn.2025-01.test:carol", 3);
        target.nexusAdded(carol.nexus);
        assertThat(target.logicalUnit(1).unitAttentions(carol.nexus).pending()).isEmpty();
        assertThat(carol.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062900);
    }

    @Test
    void addingALunTellsEveryNexusThatSeesIt() {
        target.addLogicalUnit(new LunSpec(2, "new", new MemoryBlockDevice(512, 64), false), LunAcl.EVERYONE);
        for (Initiator i : List.of(alice, bob)) {
            assertThat(i.send(0, Cdb.testUnitReady()).senseCode()).as("%s on LUN 0", i.nexus.initiatorName())
                    .isEqualTo(REPORTED_LUNS_CHANGED);
            assertThat(i.send(0, Cdb.testUnitReady()).good()).as("reported once").isTrue();
            assertThat(i.send(2, Cdb.testUnitReady()).senseCode()).as("the new LU carries the news too")
                    .isEqualTo(REPORTED_LUNS_CHANGED);
            assertThat(i.send(2, Cdb.read10(0, 1)).good()).isTrue();
        }
        assertThat(luns(alice.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0, 1, 2);
        assertThat(luns(bob.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0, 2);
    }

    @Test
    void addingAMaskedLunLeavesOthersUndisturbed() {
        target.addLogicalUnit(new LunSpec(5, "bob-only", new MemoryBlockDevice(512, 64), false), LunAcl.only(List.of(BOB)));
        assertThat(alice.send(0, Cdb.testUnitReady()).good()).isTrue();
        assertThat(alice.send(1, Cdb.testUnitReady()).good()).isTrue();
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(luns(bob.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0, 5);
        assertThatThrownBy(() -> target.addLogicalUnit(new LunSpec(5, "again", new MemoryBlockDevice(512, 8), false),
                LunAcl.EVERYONE)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("LUN 5");
    }

    @Test
    void changingAnAclTellsOnlyTheNexusesWhoseViewChanged() {
        target.changeAcl(1, LunAcl.only(List.of(ALICE, BOB)));
        assertThat(alice.send(0, Cdb.testUnitReady()).good()).as("Alice's view did not change").isTrue();
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(bob.send(1, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(bob.send(1, Cdb.read10(0, 1)).good()).isTrue();

        target.changeAcl(1, LunAcl.only(List.of(BOB)));
        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(alice.send(1, Cdb.read10(0, 1)).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
        assertThat(luns(alice.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0);
        assertThat(bob.send(1, Cdb.read10(0, 1)).good()).isTrue();
    }

    @Test
    void revokedAndRegrantedLunStartsWithAFreshQueue() {
        target.changeAcl(1, LunAcl.only(List.of(BOB)));
        target.changeAcl(1, LunAcl.only(List.of(ALICE)));
        assertThat(target.logicalUnit(1).unitAttentions(alice.nexus).pending())
                .containsExactly(io.tandem.scsi.core.SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
    }

    @Test
    void removingALunDrainsItsCommandsThenClosesItsDevice() throws Exception {
        GatedBlockDevice gated = new GatedBlockDevice(new MemoryBlockDevice(512, 64));
        target.addLogicalUnit(new LunSpec(3, "doomed", gated, false), LunAcl.EVERYONE);
        alice.send(3, Cdb.requestSense(18));
        alice.send(0, Cdb.requestSense(18));
        bob.send(0, Cdb.requestSense(18));

        gated.close(true);
        ScsiTask running = alice.task(3, Cdb.write10(0, 1), 512, new byte[512], TaskAttribute.SIMPLE);
        target.submit(running);
        gated.awaitStarted(1);

        var removed = target.removeLogicalUnit(3);
        assertThat(alice.send(3, Cdb.testUnitReady()).senseCode()).as("gone at once").isEqualTo(LUN_NOT_SUPPORTED);
        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(REPORTED_LUNS_CHANGED);
        assertThat(luns(bob.send(0, Cdb.reportLuns(0, 256)))).containsExactly(0);
        assertThat(removed).as("waits for the running write").isNotDone();

        gated.open();
        assertThat(alice.result(running).good()).as("the running write completes normally").isTrue();
        removed.get(10, TimeUnit.SECONDS);
        assertThat(gated.flushes.get()).isEqualTo(1);
        assertThatThrownBy(() -> gated.read(0, ByteBuffer.allocate(512)).join())
                .hasCauseInstanceOf(StorageException.class);
        assertThat(target.logicalUnit(3)).isNull();
        assertThat(alice.port.duplicateEndings()).isZero();
    }

    @Test
    void commandsQueuedBehindAnOrderedTaskAreRefusedWhenTheirLunGoes() throws Exception {
        GatedBlockDevice gated = new GatedBlockDevice(new MemoryBlockDevice(512, 64));
        target.addLogicalUnit(new LunSpec(4, "doomed", gated, false), LunAcl.only(List.of(ALICE)));
        alice.send(4, Cdb.requestSense(18));
        gated.close(true);
        ScsiTask ordered = alice.task(4, Cdb.read10(0, 1), 512, null, TaskAttribute.ORDERED);
        target.submit(ordered);
        gated.awaitStarted(1);
        ScsiTask queued = alice.task(4, Cdb.read10(1, 1), 512, null, TaskAttribute.SIMPLE);
        target.submit(queued);

        var removed = target.removeLogicalUnit(4);
        gated.open();
        assertThat(alice.result(ordered).good()).isTrue();
        assertThat(alice.result(queued).senseCode()).isEqualTo(LUN_NOT_SUPPORTED);
        removed.get(10, TimeUnit.SECONDS);
        assertThat(bob.send(0, Cdb.testUnitReady()).good()).as("Bob never saw LUN 4").isTrue();
    }

    @Test
    void unknownLunsAreRefusedByTheRuntimeApi() {
        assertThatThrownBy(() -> target.removeLogicalUnit(9)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> target.changeAcl(9, LunAcl.EVERYONE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aclValueSemantics() {
        assertThat(LunAcl.only(List.of())).isEqualTo(LunAcl.EVERYONE);
        assertThat(LunAcl.EVERYONE.admits("iqn.anyone")).isTrue();
        LunAcl acl = LunAcl.only(List.of("IQN.2025-01.Test:X"));
        assertThat(acl.initiators()).isEqualTo(Set.of("iqn.2025-01.test:x"));
        assertThat(acl.admits("iqn.2025-01.test:x")).isTrue();
        assertThat(acl.admits("iqn.2025-01.test:y")).isFalse();
    }

    private TaskManagementResult tmf(Initiator i, TaskManagementFunction f, int lun) {
        try {
            return target.taskManagement(i.nexus, f, Initiator.lunField(lun), 0).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
