package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The task-management side of the Control mode page, through the command path: TAS (how another
 * nexus hears of its aborted tasks), QERR (what a CHECK CONDITION does to the rest of the task set)
 * and UA_INTLCK_CTRL (whether a reported unit attention stays pending).
 */
class ControlModePageTest {

    private static final int BLOCK = 512;
    private static final int TAS = 0x40;
    private GatedBlockDevice device;
    private ScsiTarget target;
    private Initiator a;
    private Initiator b;

    @BeforeEach
    void setUp() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, 1024));
        target = new ScsiTarget("iqn.2025-01.io.tandem:control", List.of(new LunSpec(0, "lun0", device, false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        b = new Initiator(target, "iqn.2025-01.test:b", 2).login(0);
    }

    @AfterEach
    void tearDown() {
        device.open();
        target.close();
        assertThat(a.port.duplicateEndings()).isZero();
        assertThat(b.port.duplicateEndings()).isZero();
    }

    // ------------------------------------------------------------------ helpers

    private byte[] control(Initiator i) {
        byte[] d = i.send(0, Cdb.modeSense6(true, 0, 0x0A, 0, 255)).data();
        return Arrays.copyOfRange(d, 4, 4 + 12);
    }

    /** MODE SELECT(6) of the Control page with {@code edit} applied; returns the result. */
    private Initiator.Result selectControl(Initiator i, java.util.function.Consumer<byte[]> edit) {
        byte[] page = control(i);
        edit.accept(page);
        byte[] list = new byte[4 + page.length];
        System.arraycopy(page, 0, list, 4, page.length);
        return i.sendOut(0, Cdb.modeSelect6(true, false, list.length), list);
    }

    /** a changes the Control page; b's MODE PARAMETERS CHANGED is consumed so it does not disturb the test. */
    private void setControl(java.util.function.Consumer<byte[]> edit) {
        assertThat(selectControl(a, edit).good()).isTrue();
        assertThat(b.send(0, Cdb.requestSense(252)).data()[12]).isEqualTo((byte) 0x2A);
    }

    private ScsiTask write(Initiator i, long lba, byte fill) {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, fill);
        ScsiTask t = i.task(0, Cdb.write10(lba, 1), BLOCK, data, TaskAttribute.SIMPLE);
        target.submit(t);
        return t;
    }

    private static TaskManagementResult await(CompletableFuture<TaskManagementResult> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private TaskManagementResult tmf(Initiator i, TaskManagementFunction f) throws Exception {
        return await(target.taskManagement(i.nexus, f, Initiator.lunField(0), 0));
    }

    // ------------------------------------------------------------------ TAS

    @Test
    void withTasSetAnotherNexusHearsTaskAbortedStatusInsteadOfAUnitAttention() throws Exception {
        setControl(p -> p[5] |= TAS);
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        ScsiTask theirs = write(b, 2, (byte) 2);
        device.awaitStarted(2);
        CompletableFuture<TaskManagementResult> clear =
                target.taskManagement(a.nexus, TaskManagementFunction.CLEAR_TASK_SET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(clear)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(mine).aborted()).as("the issuer's own task ends silently").isTrue();
        RecordingPort.Outcome other = b.port.await(theirs);
        assertThat(other.aborted()).isFalse();
        assertThat(other.response().status()).isEqualTo(ScsiResponse.TASK_ABORTED);
        assertThat(other.response().sense()).isNull();
        assertThat(b.send(0, Cdb.testUnitReady()).good()).as("no COMMANDS CLEARED unit attention with TAS=1").isTrue();
    }

    @Test
    void withTasSetALogicalUnitResetReportsTaskAbortedToOthersAndTheResetToAll() throws Exception {
        setControl(p -> p[5] |= TAS);
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        ScsiTask theirs = write(b, 2, (byte) 2);
        device.awaitStarted(2);
        CompletableFuture<TaskManagementResult> reset = target.taskManagement(a.nexus,
                TaskManagementFunction.LOGICAL_UNIT_RESET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(reset)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(mine).aborted()).isTrue();
        assertThat(b.port.await(theirs).response().status()).isEqualTo(ScsiResponse.TASK_ABORTED);
        assertThat(a.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062903);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062903);
        assertThat(control(a)[5] & TAS).as("the reset restored TAS=0").isZero();
    }

    @Test
    void withTasClearAnotherNexusLosesItsTasksSilentlyAndGetsCommandsCleared() throws Exception {
        device.close(true);
        ScsiTask theirs = write(b, 2, (byte) 2);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> clear =
                target.taskManagement(a.nexus, TaskManagementFunction.CLEAR_TASK_SET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(clear)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(b.port.await(theirs).aborted()).isTrue();
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062F00);
    }

    @Test
    void abortTaskSetNeverReportsStatusEvenWithTas() throws Exception {
        setControl(p -> p[5] |= TAS);
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> abort =
                target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK_SET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(abort)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(mine).aborted()).isTrue();
    }

    // ------------------------------------------------------------------ QERR

    @Test
    void qerr01AbortsEveryOtherTaskWhenACommandReturnsCheckCondition() throws Exception {
        setControl(p -> p[3] = (byte) ((p[3] & ~0x06) | 0x02));
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        ScsiTask theirs = write(b, 2, (byte) 2);
        device.awaitStarted(2);
        Initiator.Result failed = a.send(0, Cdb.read16(-1L, 1));
        assertThat(failed.senseCode()).isEqualTo(0x052100);
        assertThat(a.port.ended(mine)).as("the victims end only once their backend writes have").isFalse();
        device.open();
        assertThat(a.port.await(mine).aborted()).isTrue();
        assertThat(b.port.await(theirs).aborted()).isTrue();
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).as("COMMANDS CLEARED BY DEVICE SERVER")
                .isEqualTo(0x062F02);
        assertThat(a.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void qerr11AbortsOnlyTheFailingNexusTasks() throws Exception {
        setControl(p -> p[3] |= 0x06);
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        ScsiTask theirs = write(b, 2, (byte) 2);
        device.awaitStarted(2);
        assertThat(a.send(0, Cdb.read16(-1L, 1)).senseCode()).isEqualTo(0x052100);
        device.open();
        assertThat(a.port.await(mine).aborted()).isTrue();
        assertThat(b.port.await(theirs).response().status()).isEqualTo(ScsiResponse.GOOD);
    }

    @Test
    void qerr00LeavesOtherTasksAlone() throws Exception {
        device.close(true);
        ScsiTask mine = write(a, 1, (byte) 1);
        device.awaitStarted(1);
        assertThat(a.send(0, Cdb.read16(-1L, 1)).senseCode()).isEqualTo(0x052100);
        device.open();
        assertThat(a.port.await(mine).response().status()).isEqualTo(ScsiResponse.GOOD);
    }

    @Test
    void reservedQerrAndInterlockValuesAreRefusedWithAFieldPointer() {
        Initiator.Result qerr = selectControl(a, p -> p[3] = (byte) ((p[3] & ~0x06) | 0x04));
        assertThat(qerr.senseCode()).isEqualTo(0x052600);
        assertThat(qerr.sense()[15] & 0xFF).as("SKSV, bit pointer 2").isEqualTo(0x80 | 0x08 | 2);
        assertThat(((qerr.sense()[16] & 0xFF) << 8) | (qerr.sense()[17] & 0xFF)).as("list byte 4 + 3").isEqualTo(7);
        Initiator.Result interlock = selectControl(a, p -> p[4] |= 0x10);
        assertThat(interlock.senseCode()).isEqualTo(0x052600);
        assertThat(((interlock.sense()[16] & 0xFF) << 8) | (interlock.sense()[17] & 0xFF)).isEqualTo(8);
        assertThat(control(a)[3] & 0x06).isZero();
        assertThat(control(a)[4] & 0x30).isZero();
    }

    // ------------------------------------------------------------------ UA_INTLCK_CTRL

    @Test
    void interlockedUnitAttentionIsReportedUntilRequestSenseClearsIt() {
        setControl(p -> p[4] |= 0x20); // 10b
        a.target.logicalUnit(0).establish(b.nexus, io.tandem.scsi.core.SenseReason.UA_CAPACITY_DATA_CHANGED);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062A09);
        assertThat(b.send(0, Cdb.read10(0, 1)).senseCode()).as("still pending on the next command").isEqualTo(0x062A09);
        byte[] sense = b.send(0, Cdb.requestSense(252)).data();
        assertThat(sense[2] & 0x0F).isEqualTo(0x06);
        assertThat(sense[12] & 0xFF).isEqualTo(0x2A);
        assertThat(sense[13] & 0xFF).isEqualTo(0x09);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void withoutInterlockTheReportingCommandClearsTheUnitAttention() {
        target.logicalUnit(0).establish(b.nexus, io.tandem.scsi.core.SenseReason.UA_CAPACITY_DATA_CHANGED);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062A09);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void interlock11LeavesOnePreviousReservationConflictUnitAttention() {
        setControl(p -> p[4] |= 0x30); // 11b
        target.logicalUnit(0).reservations((nexus, d) -> nexus.equals(b.nexus)
                && d.has(io.tandem.scsi.core.CommandFlag.WRITES_MEDIUM));
        assertThat(b.sendOut(0, Cdb.write10(0, 1), new byte[BLOCK]).status()).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);
        // The unit attention precedes the reservation check, so the next write reports it instead.
        assertThat(b.sendOut(0, Cdb.write10(0, 1), new byte[BLOCK]).senseCode()).isEqualTo(0x062C09);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).as("interlocked").isEqualTo(0x062C09);
        assertThat(b.send(0, Cdb.requestSense(252)).data()[13]).isEqualTo((byte) 0x09);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
        assertThat(a.send(0, Cdb.testUnitReady()).good()).as("only the nexus that saw the conflict").isTrue();
    }

    @Test
    void interlock10DoesNotReportPreviousStatus() {
        setControl(p -> p[4] |= 0x20);
        target.logicalUnit(0).reservations((nexus, d) -> nexus.equals(b.nexus)
                && d.has(io.tandem.scsi.core.CommandFlag.WRITES_MEDIUM));
        assertThat(b.sendOut(0, Cdb.write10(0, 1), new byte[BLOCK]).status()).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    // ------------------------------------------------------------------ exempt commands

    @Test
    void exemptCommandsNeitherReportNorClearExceptReportLunsClearingItsOwnCondition() {
        target.establishUnitAttention(io.tandem.scsi.core.SenseReason.UA_REPORTED_LUNS_DATA_CHANGED, a.nexus);
        target.establishUnitAttention(io.tandem.scsi.core.SenseReason.UA_INQUIRY_DATA_CHANGED, a.nexus);
        assertThat(b.send(0, Cdb.inquiry(false, 0, 96)).good()).isTrue();
        assertThat(b.send(0, Cdb.reportLuns(0, 64)).good()).isTrue();
        assertThat(target.logicalUnit(0).unitAttentions(b.nexus).pending())
                .containsExactly(io.tandem.scsi.core.SenseReason.UA_INQUIRY_DATA_CHANGED);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x063F03);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
        assertThat(a.send(0, Cdb.testUnitReady()).good()).as("the excepted nexus").isTrue();
    }
}
