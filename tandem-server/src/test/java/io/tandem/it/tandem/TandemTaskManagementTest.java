package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.DataDirection;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.Lun;
import io.tandem.it.initiator.Opcode;
import io.tandem.it.initiator.Pdu;
import io.tandem.it.initiator.RawConnection;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.support.HoldingBlockDevice;
import io.tandem.it.support.Patterns;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task management over iSCSI against commands that are really in flight: the node's LUN sits on a
 * {@link HoldingBlockDevice}, so a test can park a READ or WRITE inside the backend (or a WRITE at
 * the target waiting for its Data-Out, or a task queued behind an ORDERED one), then abort it and
 * check the TMF response, that the aborted task gets no status (or TASK ABORTED with TAS=1 when
 * another nexus aborted it), the unit attentions that follow, and what the medium holds afterwards.
 *
 * <p>What the medium must hold is Tandem's abort guarantee (docs/scsi.md): a write that had not
 * reached the backend when it was aborted never lands; one already in the backend lands whole, and
 * the TMF response comes only after it did.
 */
@Timeout(60)
class TandemTaskManagementTest {

    private static final int LUN = 0;
    private static final int BLOCK = 512;
    private static final int BLOCKS = 8;
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** How long "nothing happened" is watched for: the target would have answered by then. */
    private static final long QUIET_MILLIS = 300;

    private static final int ABORT_TASK = 1, ABORT_TASK_SET = 2, CLEAR_TASK_SET = 4, LOGICAL_UNIT_RESET = 5,
            TARGET_WARM_RESET = 6, TARGET_COLD_RESET = 7;
    private static final int FUNCTION_COMPLETE = 0, TASK_DOES_NOT_EXIST = 1;

    @TempDir
    Path dataDir;
    private HoldingBlockDevice backend;
    private TandemNode node;
    private final List<IscsiSession> sessions = new ArrayList<>();
    private IscsiSession a;
    private IscsiSession b;

    @BeforeEach
    void start() throws Exception {
        NodeConfig config = NodeConfig.builder()
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(Files.createDirectories(dataDir.resolve("node")))
                .targetName("iqn.2025-01.io.tandem.it:tmf")
                .lun(LunConfig.memory(LUN, 16L << 20, BLOCK))
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        node = TandemNode.start(config, line -> { }, device -> backend = new HoldingBlockDevice(device));
        a = login("iqn.2025-01.io.tandem.it:initiator-a", LoginOptions.normal(node.targetName()));
        b = login("iqn.2025-01.io.tandem.it:initiator-b", LoginOptions.normal(node.targetName()));
    }

    @AfterEach
    void stop() {
        backend.release();
        for (IscsiSession s : sessions) {
            assertThat(s.protocolViolations()).as("protocol violations").isEmpty();
            s.close();
        }
        node.close();
    }

    // ------------------------------------------------------------------ ABORT TASK

    @Test
    void abortTaskOfAReadInTheBackendAnswersOnlyOnceTheReadEnded() throws Exception {
        backend.holdReads();
        CompletableFuture<ScsiResult> read = a.submit(ScsiRequest.read(LUN, Cdbs.read10(100, BLOCKS), BLOCKS * BLOCK));
        backend.awaitHeld(1, WAIT);

        CompletableFuture<Integer> tmf = abortTaskAsync(a, read);
        assertQuiet(tmf, "the TMF response waits for the read the backend is doing");
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertGood(a, "ABORT TASK leaves no unit attention");
        assertNoStatus(read);
    }

    @Test
    void abortTaskOfAWriteInTheBackendLandsItWholeBeforeAnswering() throws Exception {
        byte[] data = Patterns.blocks(200, BLOCKS, BLOCK, 1);
        backend.holdWrites();
        CompletableFuture<ScsiResult> write = a.submit(write(200, data));
        backend.awaitHeld(1, WAIT);

        CompletableFuture<Integer> tmf = abortTaskAsync(a, write);
        assertQuiet(tmf, "the TMF response waits for the write the backend is doing");
        assertThat(backend.writesApplied()).isZero();
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);
        assertThat(backend.writesApplied()).as("landed before the TMF response").isEqualTo(1);

        assertGood(a, "ABORT TASK leaves no unit attention");
        assertNoStatus(write);
        assertMedium(200, data, "a write already in the backend lands whole");
    }

    @Test
    void abortTaskOfAWriteWaitingForItsDataOutNeverLands() throws Exception {
        IscsiSession c = login("iqn.2025-01.io.tandem.it:initiator-c", LoginOptions.normal(node.targetName())
                .initialR2T(true).immediateData(false));
        c.holdDataOut();
        CompletableFuture<ScsiResult> write = c.submit(write(300, Patterns.blocks(300, BLOCKS, BLOCK, 2)));
        awaitTrue(() -> c.r2tsHeld() >= 1, "the target solicited the Data-Out");

        assertThat(c.abortTask(LUN, write)).isEqualTo(FUNCTION_COMPLETE);
        // The initiator now answers the R2T: the target must discard Data-Out for the aborted task.
        c.releaseDataOut();
        assertGood(c, "the connection carries on after the late Data-Out");
        assertNoStatus(write);
        assertThat(backend.writesStarted()).as("nothing reached the backend").isZero();
        assertMedium(300, new byte[BLOCKS * BLOCK], "an aborted write that had not reached the backend");
    }

    @Test
    void abortTaskOfAFinishedCommandFindsNoTask() throws Exception {
        assertThat(a.execute(write(50, Patterns.blocks(50, 1, BLOCK, 3))).status()).isEqualTo(ScsiResult.GOOD);
        assertThat(a.taskManagement(ABORT_TASK, LUN, 0x7777, 0)).isEqualTo(TASK_DOES_NOT_EXIST);
    }

    @Test
    void abortTaskOfACommandThatNeverArrivedCountsItsCmdSnAsReceived() throws Exception {
        try (RawConnection raw = RawConnection.login(node.portal(), LoginOptions.normal(node.targetName())
                .initiatorName("iqn.2025-01.io.tandem.it:raw"))) {
            int missing = raw.cmdSn();
            raw.sequence(Pdu.create(Opcode.NOP_OUT)); // CmdSN 'missing' is never sent
            Pdu tur = raw.scsiCommand(LUN, Cdbs.testUnitReady(), DataDirection.NONE, 0);
            raw.send(tur); // held behind the gap
            assertThat(raw.next(Duration.ofMillis(QUIET_MILLIS))).as("held behind the CmdSN gap")
                    .isInstanceOf(RawConnection.Silent.class);
            raw.send(raw.sequenceImmediate(Pdu.create(Opcode.TASK_MGMT_REQUEST).flags(0x80 | ABORT_TASK)
                    .lun(Lun.encode(LUN)).itt(raw.newItt()).putInt(Pdu.OFF_WORD20, 0x4242)
                    .putInt(Pdu.OFF_WORD32, missing)));
            // RFC 7143 11.5.1: the missing CmdSN now counts as received, so the held command runs too.
            Map<Integer, Pdu> answers = new HashMap<>();
            for (int i = 0; i < 2; i++) {
                RawConnection.Outcome o = raw.next(WAIT);
                assertThat(o).isInstanceOf(RawConnection.Received.class);
                Pdu pdu = ((RawConnection.Received) o).pdu();
                answers.put(pdu.opcode(), pdu);
            }
            assertThat(answers.get(Opcode.TASK_MGMT_RESPONSE).byte2()).isEqualTo(FUNCTION_COMPLETE);
            assertThat(answers.get(Opcode.SCSI_RESPONSE).itt()).isEqualTo(tur.itt());
        }
    }

    // ------------------------------------------------------------------ ABORT TASK SET

    @Test
    void abortTaskSetTakesOnlyTheIssuersTasksIncludingOneQueuedBehindThem() throws Exception {
        byte[] mineData = Patterns.blocks(400, BLOCKS, BLOCK, 4);
        byte[] queuedData = Patterns.blocks(410, BLOCKS, BLOCK, 5);
        byte[] theirsData = Patterns.blocks(500, BLOCKS, BLOCK, 6);
        backend.holdWrites();
        CompletableFuture<ScsiResult> mine = a.submit(write(400, mineData));
        CompletableFuture<ScsiResult> theirs = b.submit(write(500, theirsData));
        backend.awaitHeld(2, WAIT);
        // ORDERED: waits in the task set for the older tasks, so it never reaches the backend.
        CompletableFuture<ScsiResult> queued = a.submit(write(410, queuedData).withTaskAttribute(ScsiRequest.ORDERED));

        CompletableFuture<Integer> tmf = tmfAsync(a, ABORT_TASK_SET);
        assertQuiet(tmf, "the TMF response waits for the write in the backend");
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertThat(b.await(theirs).status()).as("another nexus' task is untouched").isEqualTo(ScsiResult.GOOD);
        assertGood(a, "no unit attention for the issuer");
        assertGood(b, "no unit attention for the other nexus");
        assertNoStatus(mine);
        assertNoStatus(queued);
        assertMedium(400, mineData, "the aborted write that was in the backend");
        assertMedium(410, new byte[BLOCKS * BLOCK], "the aborted write that was still queued");
        assertMedium(500, theirsData, "the other nexus' write");
    }

    // ------------------------------------------------------------------ CLEAR TASK SET

    @Test
    void clearTaskSetFromAnotherInitiatorEndsItsTasksSilentlyAndTellsItByUnitAttention() throws Exception {
        byte[] runningData = Patterns.blocks(600, BLOCKS, BLOCK, 7);
        backend.holdWrites();
        CompletableFuture<ScsiResult> running = b.submit(write(600, runningData));
        backend.awaitHeld(1, WAIT);
        CompletableFuture<ScsiResult> queued = b.submit(write(610, Patterns.blocks(610, BLOCKS, BLOCK, 8))
                .withTaskAttribute(ScsiRequest.ORDERED));
        reachedTarget(b);

        CompletableFuture<Integer> tmf = tmfAsync(a, CLEAR_TASK_SET);
        assertQuiet(tmf, "the TMF response waits for the write in the backend");
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertUnitAttention(b, 0x2F, 0x00, "COMMANDS CLEARED BY ANOTHER INITIATOR");
        assertGood(b, "reported once");
        assertGood(a, "the issuer gets no unit attention");
        assertNoStatus(running);
        assertNoStatus(queued);
        assertMedium(600, runningData, "the cleared write that was in the backend");
        assertMedium(610, new byte[BLOCKS * BLOCK], "the cleared write that was still queued");
    }

    @Test
    void clearTaskSetWithTasSetEndsTheOtherInitiatorsTasksWithTaskAborted() throws Exception {
        setTaskAbortedStatus(a);
        assertUnitAttention(b, 0x2A, 0x01, "MODE PARAMETERS CHANGED by the other nexus");
        byte[] runningData = Patterns.blocks(600, BLOCKS, BLOCK, 9);
        backend.holdWrites();
        CompletableFuture<ScsiResult> running = b.submit(write(600, runningData));
        backend.awaitHeld(1, WAIT);
        CompletableFuture<ScsiResult> queued = b.submit(write(610, Patterns.blocks(610, BLOCKS, BLOCK, 10))
                .withTaskAttribute(ScsiRequest.ORDERED));
        reachedTarget(b);

        CompletableFuture<Integer> tmf = tmfAsync(a, CLEAR_TASK_SET);
        assertQuiet(tmf, "the TMF response waits for the write in the backend");
        assertThat(running).isNotDone();
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertThat(b.await(running).status()).isEqualTo(ScsiResult.TASK_ABORTED);
        assertThat(b.await(queued).status()).isEqualTo(ScsiResult.TASK_ABORTED);
        assertGood(b, "TASK ABORTED status replaces the unit attention");
        assertMedium(600, runningData, "the aborted write that was in the backend");
        assertMedium(610, new byte[BLOCKS * BLOCK], "the aborted write that was still queued");
    }

    @Test
    void withTasSetAWriteWaitingForItsDataOutEndsWithTaskAbortedAndNeverLands() throws Exception {
        setTaskAbortedStatus(a);
        IscsiSession c = login("iqn.2025-01.io.tandem.it:initiator-c", LoginOptions.normal(node.targetName())
                .initialR2T(true).immediateData(false));
        c.holdDataOut();
        CompletableFuture<ScsiResult> write = c.submit(write(900, Patterns.blocks(900, BLOCKS, BLOCK, 16)));
        awaitTrue(() -> c.r2tsHeld() >= 1, "the target solicited the Data-Out");

        assertThat(a.taskManagement(CLEAR_TASK_SET, LUN, 0xffffffff, 0)).isEqualTo(FUNCTION_COMPLETE);
        assertThat(c.await(write).status()).isEqualTo(ScsiResult.TASK_ABORTED);
        c.releaseDataOut(); // Data-Out for the ended task is discarded
        assertGood(c, "no COMMANDS CLEARED unit attention with TAS=1; the connection carries on");
        assertThat(backend.writesStarted()).isZero();
        assertMedium(900, new byte[BLOCKS * BLOCK], "a write aborted before its Data-Out arrived");
    }

    // ------------------------------------------------------------------ resets

    @Test
    void logicalUnitResetWithCommandsOfTwoSessionsInFlight() throws Exception {
        byte[] aData = Patterns.blocks(700, BLOCKS, BLOCK, 11);
        byte[] bData = Patterns.blocks(710, BLOCKS, BLOCK, 12);
        backend.holdWrites();
        backend.holdReads();
        CompletableFuture<ScsiResult> aWrite = a.submit(write(700, aData));
        CompletableFuture<ScsiResult> bWrite = b.submit(write(710, bData));
        CompletableFuture<ScsiResult> bRead = b.submit(ScsiRequest.read(LUN, Cdbs.read10(0, BLOCKS), BLOCKS * BLOCK));
        backend.awaitHeld(3, WAIT);
        CompletableFuture<ScsiResult> aQueued = a.submit(write(720, Patterns.blocks(720, BLOCKS, BLOCK, 13))
                .withTaskAttribute(ScsiRequest.ORDERED));

        CompletableFuture<Integer> tmf = tmfAsync(a, LOGICAL_UNIT_RESET);
        assertQuiet(tmf, "the TMF response waits for the backend");
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertUnitAttention(a, 0x29, 0x03, "BUS DEVICE RESET FUNCTION OCCURRED for the issuer");
        assertUnitAttention(b, 0x29, 0x03, "BUS DEVICE RESET FUNCTION OCCURRED for the other session");
        assertGood(a, "reported once");
        assertGood(b, "reported once");
        for (CompletableFuture<ScsiResult> f : List.of(aWrite, bWrite, bRead, aQueued)) {
            assertNoStatus(f);
        }
        assertMedium(700, aData, "the issuer's write that was in the backend");
        assertMedium(710, bData, "the other session's write that was in the backend");
        assertMedium(720, new byte[BLOCKS * BLOCK], "the write still queued at the reset");
    }

    @Test
    void targetWarmResetAbortsEveryTaskAndWarnsEverySession() throws Exception {
        byte[] bData = Patterns.blocks(800, BLOCKS, BLOCK, 14);
        backend.holdWrites();
        CompletableFuture<ScsiResult> bWrite = b.submit(write(800, bData));
        backend.awaitHeld(1, WAIT);
        CompletableFuture<ScsiResult> bQueued = b.submit(write(810, Patterns.blocks(810, BLOCKS, BLOCK, 15))
                .withTaskAttribute(ScsiRequest.ORDERED));
        reachedTarget(b);

        CompletableFuture<Integer> tmf = tmfAsync(a, TARGET_WARM_RESET);
        assertQuiet(tmf, "the TMF response waits for the backend");
        backend.release();
        assertThat(tmf.get(10, TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        assertUnitAttention(a, 0x29, 0x00, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED");
        assertUnitAttention(b, 0x29, 0x00, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED");
        assertNoStatus(bWrite);
        assertNoStatus(bQueued);
        assertThat(a.isOpen() && b.isOpen()).as("a warm reset keeps the sessions").isTrue();
        assertMedium(800, bData, "the write that was in the backend");
        assertMedium(810, new byte[BLOCKS * BLOCK], "the write still queued at the reset");
    }

    @Test
    void targetColdResetAnswersThenClosesEverySession() throws Exception {
        assertThat(a.taskManagement(TARGET_COLD_RESET, LUN, 0xffffffff, 0)).isEqualTo(FUNCTION_COMPLETE);
        a.closed().get(10, TimeUnit.SECONDS);
        b.closed().get(10, TimeUnit.SECONDS);
        IscsiSession again = login("iqn.2025-01.io.tandem.it:initiator-a", LoginOptions.normal(node.targetName()));
        assertGood(again, "a new login clears power-on in login()");
    }

    // ------------------------------------------------------------------ helpers

    /** Logs in and consumes the power-on unit attention. */
    private IscsiSession login(String initiatorName, LoginOptions options) throws IOException {
        IscsiSession s = IscsiSession.login(node.portal(), options.initiatorName(initiatorName));
        sessions.add(s);
        ScsiResult first = s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
        if (first.status() == ScsiResult.CHECK_CONDITION) {
            assertThat(first.sense().asc()).as("power on / reset after login").isEqualTo(0x29);
        }
        return s;
    }

    /**
     * Returns once every command {@code s} sent so far has reached the SCSI core: the target
     * delivers a session's commands in CmdSN order, and a HEAD OF QUEUE command is not held back by
     * the ORDERED ones, so its answer proves the earlier ones were admitted. (A TMF from another
     * session travels on another connection and could overtake them.)
     */
    private static void reachedTarget(IscsiSession s) throws IOException {
        ScsiResult r = s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()).withTaskAttribute(ScsiRequest.HEAD_OF_QUEUE));
        assertThat(r.status()).as("HEAD OF QUEUE TEST UNIT READY: " + r).isEqualTo(ScsiResult.GOOD);
    }

    private static ScsiRequest write(long lba, byte[] data) {
        return ScsiRequest.write(LUN, Cdbs.write10(lba, data.length / BLOCK), data);
    }

    private static CompletableFuture<Integer> abortTaskAsync(IscsiSession s, CompletableFuture<ScsiResult> task) {
        return async(() -> s.abortTask(LUN, task));
    }

    private static CompletableFuture<Integer> tmfAsync(IscsiSession s, int function) {
        return async(() -> s.taskManagement(function, LUN, 0xffffffff, 0));
    }

    private interface IoCall {
        int call() throws IOException;
    }

    private static CompletableFuture<Integer> async(IoCall call) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static void assertQuiet(CompletableFuture<?> f, String why) throws InterruptedException {
        Thread.sleep(QUIET_MILLIS);
        assertThat(f.isDone()).as(why).isFalse();
    }

    /**
     * An aborted task (TAS=0 or aborted by its own nexus) gets no status. Checked after a later
     * command of the same session completed, and after a quiet period on top.
     */
    private static void assertNoStatus(CompletableFuture<ScsiResult> f) throws InterruptedException {
        Thread.sleep(50);
        assertThat(f.isDone()).as("the aborted task got no SCSI response: %s", f.isDone() ? f.join() : "-").isFalse();
    }

    private static void assertGood(IscsiSession s, String why) throws IOException {
        ScsiResult r = s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
        assertThat(r.status()).as(why + ": " + r).isEqualTo(ScsiResult.GOOD);
    }

    private static void assertUnitAttention(IscsiSession s, int asc, int ascq, String what) throws IOException {
        ScsiResult r = s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
        assertThat(r.status()).as(what + ": " + r).isEqualTo(ScsiResult.CHECK_CONDITION);
        assertThat(r.sense().is(Sense.UNIT_ATTENTION, asc, ascq)).as(what + ": " + r.sense()).isTrue();
    }

    /** Reads back through a fresh session, so nothing pending on a and b interferes. */
    private void assertMedium(long lba, byte[] expected, String what) throws IOException {
        IscsiSession reader = login("iqn.2025-01.io.tandem.it:reader", LoginOptions.normal(node.targetName()));
        byte[] actual = reader.execute(ScsiRequest.read(LUN, Cdbs.read10(lba, expected.length / BLOCK),
                expected.length)).requireGood();
        assertThat(Patterns.firstMismatch(expected, actual, lba, BLOCK)).as(what).isNull();
        reader.logout();
        sessions.remove(reader);
    }

    /** MODE SELECT(6) of the Control page with TAS set. */
    private static void setTaskAbortedStatus(IscsiSession s) throws IOException {
        byte[] sense = s.execute(ScsiRequest.read(LUN, new byte[]{0x1A, 0x08, 0x0A, 0, (byte) 255, 0}, 255))
                .requireGood();
        byte[] page = Arrays.copyOfRange(sense, 4 + (sense[3] & 0xFF), 4 + (sense[3] & 0xFF) + 12);
        page[5] |= 0x40;
        byte[] list = new byte[4 + page.length];
        System.arraycopy(page, 0, list, 4, page.length);
        ScsiResult r = s.execute(ScsiRequest.write(LUN, new byte[]{0x15, 0x10, 0, 0, (byte) list.length, 0}, list));
        assertThat(r.status()).as("MODE SELECT TAS=1: " + r).isEqualTo(ScsiResult.GOOD);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(5);
        }
    }
}
