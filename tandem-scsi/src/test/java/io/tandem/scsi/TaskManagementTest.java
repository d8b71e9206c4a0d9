package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TaskManagementTest {

    private static final int BLOCK = 512;
    private GatedBlockDevice device;
    private ScsiTarget target;
    private Initiator a;
    private Initiator b;

    @BeforeEach
    void setUp() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, 1024));
        target = new ScsiTarget("iqn.2025-01.io.tandem:tmf", List.of(new LunSpec(0, "lun0", device, false)));
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

    private static TaskManagementResult await(CompletableFuture<TaskManagementResult> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private ScsiTask submitWrite(Initiator i, long lba, byte fill, TaskAttribute attribute) {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, fill);
        ScsiTask t = i.task(0, Cdb.write10(lba, 1), BLOCK, data, attribute);
        target.submit(t);
        return t;
    }

    @Test
    void abortTaskWaitsForTheBackendWriteAndReportsAbortedNotComplete() throws Exception {
        device.close(true);
        ScsiTask t = submitWrite(a, 5, (byte) 1, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK, Initiator.lunField(0), t.tag());
        Thread.sleep(50);
        assertThat(tmf).as("not done while the write is in the backend").isNotDone();
        assertThat(a.port.ended(t)).isFalse();
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(t).aborted()).isTrue();
        assertThat(device.writesCompleted.get()).isEqualTo(1);
        assertThat(target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK, Initiator.lunField(0), t.tag())
                .get(5, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.TASK_DOES_NOT_EXIST);
    }

    @Test
    void abortedTaskWaitingForDataOutNeverReachesTheBackend() throws Exception {
        a.port.holdDataOut(true);
        ScsiTask t = submitWrite(a, 9, (byte) 2, TaskAttribute.SIMPLE);
        assertThat(await(target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK,
                Initiator.lunField(0), t.tag()))).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(t).aborted()).isTrue();
        a.port.releaseDataOut(t);
        Thread.sleep(20);
        assertThat(device.writeFuaFlags).isEmpty();
        a.port.holdDataOut(false);
        assertThat(a.send(0, Cdb.read10(9, 1)).data()).containsOnly(0);
    }

    @Test
    void abortTaskSetTakesOnlyTheIssuersTasks() throws Exception {
        device.close(true);
        List<ScsiTask> mine = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            mine.add(submitWrite(a, i, (byte) 3, TaskAttribute.SIMPLE));
        }
        ScsiTask theirs = submitWrite(b, 100, (byte) 4, TaskAttribute.SIMPLE);
        device.awaitStarted(5);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK_SET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        for (ScsiTask t : mine) {
            assertThat(a.port.await(t).aborted()).isTrue();
        }
        assertThat(b.port.await(theirs).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(b.send(0, Cdb.testUnitReady()).good()).as("no unit attention for b").isTrue();
    }

    @Test
    void clearTaskSetTellsTheOtherNexusByUnitAttention() throws Exception {
        device.close(true);
        ScsiTask theirs = submitWrite(b, 100, (byte) 4, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.CLEAR_TASK_SET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(b.port.await(theirs).aborted()).isTrue();
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062F00);
        assertThat(a.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void logicalUnitResetAbortsEverythingResetsModePagesAndWarnsEveryNexus() throws Exception {
        byte[] control = a.send(0, Cdb.modeSense6(true, 0, 0x0A, 0, 255)).data();
        byte[] list = Arrays.copyOf(control, control.length);
        list[0] = 0;
        list[2] = 0;
        list[4 + 2] |= 0x04; // D_SENSE
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        b.send(0, Cdb.testUnitReady()); // consume b's mode-parameters-changed

        device.close(true);
        ScsiTask t1 = submitWrite(a, 1, (byte) 5, TaskAttribute.SIMPLE);
        ScsiTask t2 = submitWrite(b, 2, (byte) 6, TaskAttribute.SIMPLE);
        device.awaitStarted(2);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.LOGICAL_UNIT_RESET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(t1).aborted()).isTrue();
        assertThat(b.port.await(t2).aborted()).isTrue();
        Initiator.Result ua = a.send(0, Cdb.testUnitReady());
        assertThat(ua.senseCode()).isEqualTo(0x062903);
        assertThat(ua.isDescriptor()).as("D_SENSE back to its default").isFalse();
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062903);
        assertThat(a.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void anAbortedWriteAndVerifyThatStartedWritingRunsToItsEnd() throws Exception {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, (byte) 0x5A);
        device.close(true);
        ScsiTask t = a.task(0, Cdb.rw10(0x2E, 7, 1, 0x02), BLOCK, data, TaskAttribute.SIMPLE); // BYTCHK=01b
        target.submit(t);
        device.awaitStarted(1);
        int readsBefore = device.readsStarted.get();
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK, Initiator.lunField(0), t.tag());
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(t).aborted()).isTrue();
        assertThat(device.readsStarted.get()).as("the verify read after the write still ran").isEqualTo(readsBefore + 1);
        assertThat(a.send(0, Cdb.read10(7, 1)).data()).containsOnly(0x5A);
    }

    @Test
    void anAbortedReadStopsAndReportsNothing() throws Exception {
        device.close(true);
        ScsiTask read = a.task(0, Cdb.read10(0, 8), 8 * BLOCK, null, TaskAttribute.SIMPLE);
        target.submit(read);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK, Initiator.lunField(0), read.tag());
        Thread.sleep(20);
        assertThat(tmf).as("waits for the backend read it started").isNotDone();
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(read).aborted()).isTrue();
    }

    @Test
    void targetColdResetEstablishesPowerOnForEveryNexusAndLogicalUnit() throws Exception {
        device.close(true);
        ScsiTask t = submitWrite(b, 3, (byte) 3, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        CompletableFuture<TaskManagementResult> tmf =
                target.taskManagement(a.nexus, TaskManagementFunction.TARGET_COLD_RESET, Initiator.lunField(0), 0);
        device.open();
        assertThat(await(tmf)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(b.port.await(t).aborted()).isTrue();
        assertThat(a.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062901);
        assertThat(b.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062901);
        assertThat(b.send(0, Cdb.read10(3, 1)).data()).as("the committed write landed whole").containsOnly(3);
    }

    @Test
    void reportSupportedTaskManagementFunctionsListsExactlyWhatRuns() throws Exception {
        byte[] cdb = Cdb.reportSupportedOpcodes(false, 0, 0, 0, 16);
        cdb[1] = 0x0D;
        cdb[2] = (byte) 0x80; // REPD: the extended format
        byte[] d = a.send(0, cdb).data();
        assertThat(d).hasSize(16);
        assertThat(d[3] & 0xFF).as("ADDITIONAL DATA LENGTH").isEqualTo(0x0C);
        // byte 0: ATS ATSS CACAS CTSS LURS QTS TRS WAKES
        int[] bits = {0x80, 0x40, 0x20, 0x10, 0x08, -1, 0x02};
        TaskManagementFunction[] functions = {TaskManagementFunction.ABORT_TASK, TaskManagementFunction.ABORT_TASK_SET,
                TaskManagementFunction.CLEAR_ACA, TaskManagementFunction.CLEAR_TASK_SET,
                TaskManagementFunction.LOGICAL_UNIT_RESET, null, TaskManagementFunction.TARGET_WARM_RESET};
        for (int i = 0; i < functions.length; i++) {
            if (functions[i] == null) {
                continue;
            }
            TaskManagementResult r = await(target.taskManagement(a.nexus, functions[i], Initiator.lunField(0), 99));
            boolean reported = (d[0] & bits[i]) != 0;
            assertThat(r != TaskManagementResult.FUNCTION_NOT_SUPPORTED).as(functions[i] + " runs iff reported")
                    .isEqualTo(reported);
        }
        assertThat(d[1] & 0x07).as("QUERY ASYNC EVENT, QUERY TASK SET, I_T NEXUS RESET: not carried by iSCSI").isZero();
    }

    @Test
    void unknownLunAndUnsupportedFunctions() throws Exception {
        assertThat(await(target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK_SET,
                Initiator.lunField(9), 0))).isEqualTo(TaskManagementResult.LUN_DOES_NOT_EXIST);
        assertThat(await(target.taskManagement(a.nexus, TaskManagementFunction.CLEAR_ACA,
                Initiator.lunField(0), 0))).isEqualTo(TaskManagementResult.FUNCTION_NOT_SUPPORTED);
        assertThat(await(target.taskManagement(a.nexus, TaskManagementFunction.TARGET_WARM_RESET,
                Initiator.lunField(0), 0))).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062900);
    }

    @Test
    void orderedTaskWaitsForOlderTasksAndBlocksNewerOnes() throws Exception {
        device.close(true);
        ScsiTask older = submitWrite(a, 1, (byte) 7, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        ScsiTask ordered = submitWrite(a, 2, (byte) 8, TaskAttribute.ORDERED);
        ScsiTask newer = submitWrite(b, 3, (byte) 9, TaskAttribute.SIMPLE);
        ScsiTask head = b.task(0, Cdb.testUnitReady(), 0, null, TaskAttribute.HEAD_OF_QUEUE);
        target.submit(head);
        assertThat(b.port.await(head).response().status()).as("head of queue passes").isEqualTo(ScsiResponse.GOOD);
        Thread.sleep(50);
        assertThat(device.writeFuaFlags).as("only the older write reached the device").hasSize(1);
        device.open();
        assertThat(a.port.await(older).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(a.port.await(ordered).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(b.port.await(newer).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(device.writeFuaFlags).hasSize(3);
    }

    @Test
    void aSimpleTaskWaitsForAnOlderHeadOfQueueTaskButAHeadOfQueueTaskOvertakesEverything() throws Exception {
        device.close(true);
        ScsiTask head = submitWrite(a, 1, (byte) 1, TaskAttribute.HEAD_OF_QUEUE);
        device.awaitStarted(1);
        ScsiTask simple = submitWrite(b, 2, (byte) 2, TaskAttribute.SIMPLE);
        ScsiTask ordered = submitWrite(a, 3, (byte) 3, TaskAttribute.ORDERED);
        ScsiTask secondHead = submitWrite(b, 4, (byte) 4, TaskAttribute.HEAD_OF_QUEUE);
        device.awaitStarted(1); // the second HEAD OF QUEUE task passes the waiting ones
        Thread.sleep(50);
        assertThat(device.writeFuaFlags).as("SIMPLE and ORDERED wait for the older HEAD OF QUEUE tasks").hasSize(2);
        device.open();
        for (ScsiTask t : List.of(head, simple, ordered, secondHead)) {
            RecordingPort port = t.nexus().equals(a.nexus) ? a.port : b.port;
            assertThat(port.await(t).response().status()).isEqualTo(ScsiResponse.GOOD);
        }
        assertThat(device.writeFuaFlags).hasSize(4);
    }

    @Test
    void abortingAWaitingTaskLetsTheQueueMoveOn() throws Exception {
        device.close(true);
        ScsiTask older = submitWrite(a, 1, (byte) 1, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        ScsiTask ordered = submitWrite(a, 2, (byte) 2, TaskAttribute.ORDERED);
        ScsiTask newer = submitWrite(a, 3, (byte) 3, TaskAttribute.SIMPLE);
        assertThat(await(target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK,
                Initiator.lunField(0), ordered.tag()))).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(ordered).aborted()).isTrue();
        device.awaitStarted(1); // the newer SIMPLE task is no longer blocked
        device.open();
        assertThat(a.port.await(older).response().status()).isEqualTo(ScsiResponse.GOOD);
        assertThat(a.port.await(newer).response().status()).isEqualTo(ScsiResponse.GOOD);
    }

    @Test
    void manyConcurrentTasksAllCompleteWithTheirOwnData() throws Exception {
        int n = 200;
        List<ScsiTask> writes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = base; i < n; i += 4) {
                    synchronized (writes) {
                        writes.add(submitWrite(i % 2 == 0 ? a : b, i, (byte) i, TaskAttribute.SIMPLE));
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        for (ScsiTask t : writes) {
            RecordingPort port = t.nexus().equals(a.nexus) ? a.port : b.port;
            assertThat(port.await(t).response().status()).isEqualTo(ScsiResponse.GOOD);
        }
        byte[] all = a.send(0, Cdb.read10(0, n)).data();
        for (int i = 0; i < n; i++) {
            assertThat(all[i * BLOCK]).isEqualTo((byte) i);
            assertThat(all[i * BLOCK + BLOCK - 1]).isEqualTo((byte) i);
        }
    }

    @Test
    void duplicateTagIsAnOverlappedCommand() throws Exception {
        device.close(true);
        ScsiTask first = submitWrite(a, 1, (byte) 1, TaskAttribute.SIMPLE);
        ScsiTask clash = new ScsiTask(a.nexus, first.lun(), first.cdb(), TaskAttribute.SIMPLE, first.tag(), BLOCK,
                false, true, a.port);
        a.port.dataOut(clash, new byte[BLOCK]);
        target.submit(clash);
        assertThat(a.result(clash).senseCode()).isEqualTo(0x0B4E00);
        device.open();
        assertThat(a.port.await(first).response().status()).isEqualTo(ScsiResponse.GOOD);
    }

    @Test
    void nexusLossAbortsItsTasksAndForgetsItsUnitAttentions() throws Exception {
        device.close(true);
        ScsiTask t = submitWrite(b, 1, (byte) 1, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        target.nexusRemoved(b.nexus);
        assertThat(b.port.ended(t)).isFalse();
        device.open();
        assertThat(b.port.await(t).aborted()).isTrue();
    }

    @Test
    void closeWaitsForInFlightTasks() throws Exception {
        device.close(true);
        ScsiTask t = submitWrite(a, 1, (byte) 1, TaskAttribute.SIMPLE);
        device.awaitStarted(1);
        Thread closer = Thread.ofVirtual().start(target::close);
        closer.join(100);
        assertThat(closer.isAlive()).isTrue();
        device.open();
        closer.join(10_000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(a.port.await(t).response().status()).isEqualTo(ScsiResponse.GOOD);
        ScsiTask late = a.task(0, Cdb.testUnitReady(), 0, null, TaskAttribute.SIMPLE);
        target.submit(late);
        assertThat(a.port.await(late).response().status()).isEqualTo(ScsiResponse.BUSY);
    }
}
