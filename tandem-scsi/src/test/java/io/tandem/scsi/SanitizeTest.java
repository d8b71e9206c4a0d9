package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import io.tandem.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SANITIZE through the SCSI target: the service actions, their validation, and the LU's sanitize state. */
@Timeout(60)
class SanitizeTest {

    private static final int BLOCK = 512;
    private static final int BLOCKS = 64;
    private GatedBlockDevice device;
    private ScsiTarget target;
    private Initiator a;
    private Initiator b;

    @BeforeEach
    void setUp() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, BLOCKS));
        target = new ScsiTarget("iqn.2025-01.io.tandem:sanitize", List.of(
                new LunSpec(0, "lun0", device, false),
                new LunSpec(1, "ro", new MemoryBlockDevice(BLOCK, 16), true)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0, 1);
        b = new Initiator(target, "iqn.2025-01.test:b", 2).login(0, 1);
    }

    @AfterEach
    void tearDown() {
        device.open();
        target.close();
        assertThat(a.port.duplicateEndings()).isZero();
        assertThat(b.port.duplicateEndings()).isZero();
    }

    static byte[] sanitize(int serviceAction, boolean immediate, boolean ause, int parameterLength) {
        byte[] c = new byte[10];
        c[0] = 0x48;
        c[1] = (byte) (serviceAction | (immediate ? 0x80 : 0) | (ause ? 0x20 : 0));
        Cdb.put16(c, 7, parameterLength);
        return c;
    }

    static byte[] overwriteList(int flags, byte[] pattern) {
        byte[] p = new byte[4 + pattern.length];
        p[0] = (byte) flags;
        p[2] = (byte) (pattern.length >>> 8);
        p[3] = (byte) pattern.length;
        System.arraycopy(pattern, 0, p, 4, pattern.length);
        return p;
    }

    private Initiator.Result overwrite(Initiator i, int flags, byte[] pattern, boolean immediate) {
        byte[] list = overwriteList(flags, pattern);
        return i.sendOut(0, sanitize(0x01, immediate, false, list.length), list);
    }

    private byte[] everything() {
        return a.send(0, Cdb.read16(0, BLOCKS)).data();
    }

    private void awaitTestUnitReady(Initiator i) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!i.send(0, Cdb.testUnitReady()).good()) {
            assertThat(System.nanoTime()).as("sanitize should end").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void overwriteRepeatsThePatternThroughEveryBlock() {
        a.sendOut(0, Cdb.write16(0, BLOCKS), new byte[BLOCKS * BLOCK]);
        assertThat(overwrite(a, 0x01, new byte[]{1, 2, 3}, false).good()).isTrue();
        byte[] all = everything();
        for (int i = 0; i < all.length; i++) {
            assertThat(all[i]).as("byte %d", i).isEqualTo((byte) (1 + (i % BLOCK) % 3));
        }
    }

    @Test
    void invertedPassesEndWithThePatternItself() {
        byte[] pattern = new byte[BLOCK];
        Arrays.fill(pattern, (byte) 0x0F);
        assertThat(overwrite(a, 0x80 | 0x02, pattern, false).good()).isTrue(); // INVERT, two passes
        assertThat(everything()).containsOnly((byte) 0x0F);
        assertThat(device.writeFuaFlags.size()).as("two passes of 64 blocks in 1 MiB chunks").isEqualTo(2);
    }

    @Test
    void overwriteParametersAreValidated() {
        byte[] pattern = new byte[BLOCK];
        for (int length : new int[]{0, 1, 4, BLOCK + 5}) {
            byte[] list = Arrays.copyOf(overwriteList(0x01, pattern), Math.max(length, 0));
            Initiator.Result r = a.sendOut(0, sanitize(0x01, false, false, length), list);
            assertThat(r.senseCode()).as("parameter list length %d", length).isEqualTo(0x052400);
            assertThat(r.sense()[17]).as("field pointer").isEqualTo((byte) 7);
        }
        assertThat(overwrite(a, 0x00, pattern, false).senseCode()).as("OVERWRITE COUNT 0").isEqualTo(0x052600);
        assertThat(overwrite(a, 0x21, pattern, false).senseCode()).as("TEST").isEqualTo(0x052600);
        byte[] noPattern = overwriteList(0x01, pattern);
        noPattern[2] = 0;
        noPattern[3] = 0;
        assertThat(a.sendOut(0, sanitize(0x01, false, false, noPattern.length), noPattern).senseCode()).isEqualTo(0x052600);
        byte[] tooLong = overwriteList(0x01, pattern);
        Cdb.put16(tooLong, 2, BLOCK + 4);
        assertThat(a.sendOut(0, sanitize(0x01, false, false, tooLong.length), tooLong).senseCode()).isEqualTo(0x052600);
        assertThat(a.send(0, Cdb.testUnitReady()).good()).as("nothing started").isTrue();
    }

    @Test
    void blockEraseZeroesEveryBlockAndTakesNoParameters() {
        a.sendOut(0, Cdb.write16(0, BLOCKS), filled(BLOCKS, 0x61));
        assertThat(a.send(0, sanitize(0x02, false, false, 0), 0).good()).isTrue();
        assertThat(everything()).containsOnly(0);
        assertThat(a.sendOut(0, sanitize(0x02, false, false, 8), new byte[8]).senseCode()).isEqualTo(0x052400);
        byte[] bdc = a.send(0, Cdb.inquiry(true, 0xB1, 64)).data();
        assertThat((bdc[7] >>> 6) & 3).as("WABEREQ: reads after BLOCK ERASE succeed").isEqualTo(1);
        assertThat((bdc[7] >>> 4) & 3).as("WACEREQ: no CRYPTO ERASE").isZero();
    }

    @Test
    void cryptoEraseAndUnknownServiceActionsAreInvalidFieldsInTheCdb() {
        for (int sa = 0; sa < 0x1F; sa++) {
            if (sa == 0x01 || sa == 0x02) {
                continue;
            }
            Initiator.Result r = a.send(0, sanitize(sa, false, false, 0), 0);
            assertThat(r.senseCode()).as("service action %d", sa).isEqualTo(0x052400);
            assertThat(r.sense()[17]).isEqualTo((byte) 1);
        }
    }

    @Test
    void readOnlyAndSoftwareWriteProtectedLusRefuseSanitize() {
        byte[] list = overwriteList(0x01, new byte[]{7});
        assertThat(a.sendOut(1, sanitize(0x01, false, false, list.length), list).senseCode()).isEqualTo(0x072700);
        assertThat(a.send(1, sanitize(0x02, false, false, 0), 0).senseCode()).isEqualTo(0x072700);
        byte[] control = a.send(0, Cdb.modeSense6(true, 0, 0x0A, 0, 255)).data();
        byte[] select = Arrays.copyOf(control, control.length);
        select[0] = 0;
        select[4 + 4] |= 0x08; // SWP
        assertThat(b.sendOut(0, Cdb.modeSelect6(true, false, select.length), select).good()).isTrue();
        a.send(0, Cdb.testUnitReady()); // the mode-change unit attention
        assertThat(a.sendOut(0, sanitize(0x01, false, false, list.length), list).senseCode()).isEqualTo(0x072702);
    }

    @Test
    void whileASanitizeRunsOnlyInquiryReportLunsAndRequestSenseAreServed() throws Exception {
        device.close(true);
        assertThat(overwrite(a, 0x01, new byte[]{0x55}, true).good()).as("IMMED: status once validated").isTrue();
        device.awaitStarted(1);
        for (Initiator i : List.of(a, b)) {
            assertThat(i.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x02041B);
            assertThat(i.send(0, Cdb.read16(0, 1)).senseCode()).isEqualTo(0x02041B);
            assertThat(i.send(0, sanitize(0x02, false, false, 0), 0).senseCode()).isEqualTo(0x02041B);
            assertThat(i.send(0, Cdb.inquiry(false, 0, 96)).good()).isTrue();
            assertThat(i.send(0, Cdb.reportLuns(0, 256)).good()).isTrue();
            byte[] sense = i.send(0, Cdb.requestSense(252)).data();
            assertThat(sense[2] & 0x0F).isEqualTo(0x02);
            assertThat(sense[12] & 0xFF).isEqualTo(0x04);
            assertThat(sense[13] & 0xFF).isEqualTo(0x1B);
            assertThat(sense[15] & 0x80).as("SKSV: progress indication").isEqualTo(0x80);
        }
        assertThat(a.send(1, Cdb.testUnitReady()).good()).as("other LUs are unaffected").isTrue();
        device.open();
        awaitTestUnitReady(a);
        assertThat(everything()).containsOnly(0x55);
    }

    @Test
    void theOperationOutlivesAbortsResetsAndNexusLoss() throws Exception {
        device.close(true);
        byte[] list = overwriteList(0x01, new byte[]{0x3C});
        ScsiTask sanitizeTask = a.task(0, sanitize(0x01, false, false, list.length), list.length, list, TaskAttribute.SIMPLE);
        target.submit(sanitizeTask);
        device.awaitStarted(1);
        // The command can be aborted at once: the operation is not its backend work.
        assertThat(target.taskManagement(a.nexus, TaskManagementFunction.ABORT_TASK, Initiator.lunField(0),
                sanitizeTask.tag()).get(5, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(a.port.await(sanitizeTask).aborted()).isTrue();
        assertThat(target.taskManagement(b.nexus, TaskManagementFunction.LOGICAL_UNIT_RESET, Initiator.lunField(0), 0)
                .get(5, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        target.nexusRemoved(a.nexus);
        Initiator again = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        assertThat(again.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x02041B);
        device.open();
        awaitTestUnitReady(again);
        assertThat(again.send(0, Cdb.read16(0, BLOCKS)).data()).containsOnly(0x3C);
    }

    @Test
    void commandsAdmittedBeforeTheSanitizeEndBeforeItWrites() throws Exception {
        device.close(true);
        ScsiTask write = a.task(0, Cdb.write16(5, 1), BLOCK, filled(1, 0x77), TaskAttribute.SIMPLE);
        target.submit(write);
        device.awaitStarted(1);
        assertThat(overwrite(b, 0x01, new byte[]{0x11}, true).good()).isTrue();
        Thread.sleep(100);
        assertThat(device.writeFuaFlags).as("the sanitize waits for the earlier WRITE").hasSize(1);
        device.open();
        assertThat(a.result(write).good()).isTrue();
        awaitTestUnitReady(a);
        assertThat(everything()).as("no block keeps pre-sanitize data").containsOnly(0x11);
    }

    @Test
    void aFailedSanitizeFencesTheMediumUntilLeft() throws Exception {
        ScsiTarget failing = new ScsiTarget("iqn.2025-01.io.tandem:failing", List.of(
                new LunSpec(0, "f", new FailingBlockDevice(StorageException.Kind.READ_ERROR, StorageException.Kind.WRITE_ERROR), false)));
        try {
            Initiator i = new Initiator(failing, "iqn.2025-01.test:i", 1).login(0);
            byte[] list = overwriteList(0x01, new byte[]{1});
            // Restricted completion mode (AUSE=0): only a successful sanitize ends the failure.
            assertThat(i.sendOut(0, sanitize(0x01, false, false, list.length), list).senseCode()).isEqualTo(0x033103);
            assertThat(i.send(0, Cdb.read16(0, 1)).senseCode()).isEqualTo(0x033103);
            assertThat(i.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x033103);
            assertThat(i.send(0, Cdb.inquiry(false, 0, 96)).good()).isTrue();
            assertThat(i.send(0, sanitize(0x1F, false, false, 0), 0).senseCode()).isEqualTo(0x052400);
            // Unrestricted (AUSE=1): EXIT FAILURE MODE leaves it.
            assertThat(i.send(0, sanitize(0x02, false, true, 0), 0).senseCode()).isEqualTo(0x033103);
            assertThat(i.sendOut(0, sanitize(0x1F, false, false, 8), new byte[8]).senseCode()).isEqualTo(0x052400);
            assertThat(i.send(0, sanitize(0x1F, false, false, 0), 0).good()).isTrue();
            assertThat(i.send(0, Cdb.testUnitReady()).good()).isTrue();
            assertThat(i.send(0, Cdb.read16(0, 1)).senseCode()).as("the device's own error again").isEqualTo(0x031100);
        } finally {
            failing.close();
        }
    }

    private static byte[] filled(int blocks, int value) {
        byte[] b = new byte[blocks * BLOCK];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @SuppressWarnings("unused")
    private static int u16(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 2).getShort() & 0xFFFF;
    }
}
