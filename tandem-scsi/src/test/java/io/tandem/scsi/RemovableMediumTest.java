package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A removable LU (RMB=1) next to a fixed one: eject and load by START STOP UNIT, PREVENT ALLOW
 * MEDIUM REMOVAL per I_T nexus and the events that end it, NOT READY while the medium is out.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RemovableMediumTest {

    private static final int FIXED = 0;
    private static final int REMOVABLE = 1;
    private static final int GOOD = -1;
    private static final int NO_MEDIUM = 0x023A00;
    private static final int REMOVAL_PREVENTED = 0x055302;
    private static final int INVALID_FIELD_IN_CDB = 0x052400;

    private ScsiTarget target;
    private FlushCountingDevice removableDevice;
    private Initiator a;
    private Initiator b;

    @BeforeEach
    void setUp() {
        removableDevice = new FlushCountingDevice(new MemoryBlockDevice(512, 64));
        target = new ScsiTarget("iqn.2025-01.io.tandem:rmb", List.of(
                new LunSpec(FIXED, "fixed", new MemoryBlockDevice(512, 64), false),
                new LunSpec(REMOVABLE, "cartridge", removableDevice, false, 512, true)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(FIXED, REMOVABLE);
        b = new Initiator(target, "iqn.2025-01.test:b", 1).login(FIXED, REMOVABLE);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    // ---- CDB builders: START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL

    private static byte[] eject() {
        return Cdb.of(0x1B, 0, 0, 0, 0x02, 0);
    }

    private static byte[] load() {
        return Cdb.of(0x1B, 0, 0, 0, 0x03, 0);
    }

    private static byte[] preventAllow(int prevent) {
        return Cdb.of(0x1E, 0, 0, 0, prevent, 0);
    }

    private static int outcome(Initiator.Result r) {
        return r.good() ? GOOD : r.senseCode();
    }

    private int tur(Initiator i, int lun) {
        return outcome(i.send(lun, Cdb.testUnitReady()));
    }

    // ---- INQUIRY

    @Test
    void standardInquiryReportsRmbOnlyForTheRemovableLu() {
        assertThat(a.send(REMOVABLE, Cdb.inquiry(false, 0, 36)).data()[1] & 0x80).isEqualTo(0x80);
        assertThat(a.send(FIXED, Cdb.inquiry(false, 0, 36)).data()[1] & 0x80).isZero();
    }

    // ---- eject and load

    @Test
    void ejectMakesMediumCommandsNotReadyAndLoadBringsThemBack() {
        assertThat(a.sendOut(REMOVABLE, Cdb.write10(3, 1), filled(7)).good()).isTrue();
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);

        assertThat(tur(a, REMOVABLE)).isEqualTo(NO_MEDIUM);
        assertThat(tur(b, REMOVABLE)).as("the medium is out for every nexus").isEqualTo(NO_MEDIUM);
        assertThat(outcome(a.send(REMOVABLE, Cdb.read10(0, 1)))).isEqualTo(NO_MEDIUM);
        assertThat(outcome(a.sendOut(REMOVABLE, Cdb.write10(3, 1), filled(9)))).isEqualTo(NO_MEDIUM);
        assertThat(outcome(a.send(REMOVABLE, Cdb.readCapacity10()))).isEqualTo(NO_MEDIUM);
        assertThat(outcome(a.send(REMOVABLE, Cdb.readCapacity16(32)))).isEqualTo(NO_MEDIUM);
        // What does not touch the medium still runs.
        assertThat(a.send(REMOVABLE, Cdb.inquiry(false, 0, 36)).good()).isTrue();
        assertThat(a.send(REMOVABLE, Cdb.requestSense(252)).good()).isTrue();
        assertThat(a.send(REMOVABLE, Cdb.reportLuns(0, 64)).good()).isTrue();
        assertThat(outcome(a.send(REMOVABLE, preventAllow(0)))).isEqualTo(GOOD);
        assertThat(tur(a, FIXED)).as("other LUs are unaffected").isEqualTo(GOOD);

        assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(GOOD);
        assertThat(tur(a, REMOVABLE)).isEqualTo(GOOD);
        assertThat(a.send(REMOVABLE, Cdb.read10(3, 1)).data()).as("the medium kept its data").containsOnly(7);
        assertThat(tur(b, REMOVABLE)).as("other nexuses hear the medium may have changed").isEqualTo(0x062800);
        assertThat(tur(b, REMOVABLE)).isEqualTo(GOOD);
    }

    @Test
    void notReadyWhileEjectedFollowsTheMediumAccessFlagOfEveryRow() {
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);
        for (CommandDescriptor d : CommandTable.TABLE.all()) {
            if (!d.has(CommandFlag.MEDIUM_ACCESS)) {
                continue;
            }
            byte[] cdb = new byte[d.usage().length];
            cdb[0] = (byte) d.opcode();
            if (d.hasServiceAction()) {
                cdb[1] = (byte) d.serviceAction();
            }
            Initiator.Result r = d.direction() == io.tandem.scsi.core.DataDirection.OUT
                    ? a.sendOut(REMOVABLE, cdb, new byte[0], 0)
                    : a.send(REMOVABLE, cdb);
            assertThat(outcome(r)).as(d.name()).isEqualTo(NO_MEDIUM);
        }
        assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(GOOD);
    }

    @Test
    void ejectFlushesUnlessNoFlushIsSet() {
        assertThat(a.sendOut(REMOVABLE, Cdb.write10(0, 1), filled(1)).good()).isTrue();
        long before = removableDevice.flushCount();
        assertThat(outcome(a.send(REMOVABLE, Cdb.of(0x1B, 0, 0, 0, 0x06, 0)))).as("NO_FLUSH").isEqualTo(GOOD);
        assertThat(removableDevice.flushCount()).isEqualTo(before);
        assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);
        assertThat(removableDevice.flushCount()).isEqualTo(before + 1);
    }

    @Test
    void powerConditionsAndStartStopWithoutLoejLeaveTheMediumIn() {
        for (int pc = 1; pc < 16; pc++) {
            assertThat(outcome(a.send(REMOVABLE, Cdb.of(0x1B, 1, 0, 0, (pc << 4) | 0x02, 0)))).as("PC %d", pc)
                    .isEqualTo(GOOD);
            assertThat(tur(a, REMOVABLE)).as("PC %d", pc).isEqualTo(GOOD);
        }
        for (int bits : new int[]{0x00, 0x01, 0x04, 0x05}) {
            assertThat(outcome(a.send(REMOVABLE, Cdb.of(0x1B, 0, 0, 0, bits, 0)))).isEqualTo(GOOD);
            assertThat(tur(a, REMOVABLE)).isEqualTo(GOOD);
        }
    }

    @Test
    void fixedLuKeepsRefusingLoejAndReservedPowerConditions() {
        assertThat(outcome(a.send(FIXED, Cdb.of(0x1B, 0, 0, 0, 0x00, 0)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(FIXED, eject()))).isEqualTo(INVALID_FIELD_IN_CDB);
        assertThat(outcome(a.send(FIXED, load()))).isEqualTo(INVALID_FIELD_IN_CDB);
        assertThat(outcome(a.send(FIXED, Cdb.of(0x1B, 0, 0, 0, 0x40, 0)))).isEqualTo(INVALID_FIELD_IN_CDB);
        assertThat(outcome(a.send(FIXED, preventAllow(1)))).as("nothing to hold in: accepted").isEqualTo(GOOD);
        assertThat(tur(a, FIXED)).isEqualTo(GOOD);
    }

    // ---- PREVENT ALLOW MEDIUM REMOVAL

    @Test
    void preventionBlocksEjectAndLoadUntilAllowed() {
        assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(REMOVAL_PREVENTED);
        assertThat(tur(a, REMOVABLE)).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, preventAllow(0)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);
        assertThat(tur(a, REMOVABLE)).isEqualTo(NO_MEDIUM);

        assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(REMOVAL_PREVENTED);
        assertThat(outcome(a.send(REMOVABLE, preventAllow(0)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(GOOD);
        assertThat(tur(a, REMOVABLE)).isEqualTo(GOOD);
    }

    @Test
    void removalStaysPreventedWhileAnyNexusPrevents() {
        assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(b.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(b.send(REMOVABLE, eject()))).as("a prevents").isEqualTo(REMOVAL_PREVENTED);
        assertThat(outcome(a.send(REMOVABLE, preventAllow(0)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).as("b still prevents").isEqualTo(REMOVAL_PREVENTED);
        assertThat(outcome(a.send(REMOVABLE, preventAllow(0)))).as("a cannot allow for b").isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(REMOVAL_PREVENTED);
        assertThat(outcome(b.send(REMOVABLE, preventAllow(0)))).isEqualTo(GOOD);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);
    }

    @Test
    void nexusLossEndsOnlyThatNexusPrevention() {
        assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(b.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        target.nexusRemoved(a.nexus);
        assertThat(outcome(b.send(REMOVABLE, eject()))).as("b's own hold remains").isEqualTo(REMOVAL_PREVENTED);
        target.nexusRemoved(b.nexus);
        Initiator again = new Initiator(target, "iqn.2025-01.test:a", 1).login(REMOVABLE);
        assertThat(outcome(again.send(REMOVABLE, eject()))).isEqualTo(GOOD);
        assertThat(tur(again, REMOVABLE)).isEqualTo(NO_MEDIUM);
    }

    @Test
    void logicalUnitResetEndsEveryPreventionOfThatLuOnly() throws Exception {
        assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(outcome(b.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
        assertThat(target.taskManagement(a.nexus, TaskManagementFunction.LOGICAL_UNIT_RESET,
                Initiator.lunField(FIXED), 0).get(10, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(target.logicalUnit(REMOVABLE).medium().removalPrevented()).as("reset of another LU").isTrue();
        assertThat(target.taskManagement(a.nexus, TaskManagementFunction.LOGICAL_UNIT_RESET,
                Initiator.lunField(REMOVABLE), 0).get(10, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertThat(tur(a, REMOVABLE)).isEqualTo(0x062903);
        assertThat(outcome(a.send(REMOVABLE, eject()))).isEqualTo(GOOD);
        assertThat(tur(a, REMOVABLE)).isEqualTo(NO_MEDIUM);
    }

    @Test
    void targetWarmAndColdResetsEndPrevention() throws Exception {
        for (TaskManagementFunction reset : new TaskManagementFunction[]{
                TaskManagementFunction.TARGET_WARM_RESET, TaskManagementFunction.TARGET_COLD_RESET}) {
            assertThat(outcome(a.send(REMOVABLE, preventAllow(1)))).isEqualTo(GOOD);
            assertThat(target.taskManagement(b.nexus, reset, Initiator.lunField(FIXED), 0).get(10, TimeUnit.SECONDS))
                    .isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
            a.send(REMOVABLE, Cdb.requestSense(252)); // clears the reset's unit attention
            assertThat(outcome(a.send(REMOVABLE, eject()))).as(reset.name()).isEqualTo(GOOD);
            assertThat(outcome(a.send(REMOVABLE, load()))).isEqualTo(GOOD);
        }
    }

    @Test
    void obsoletePreventValuesAreRefusedByTheUsageMask() {
        assertThat(outcome(a.send(REMOVABLE, preventAllow(2)))).isEqualTo(INVALID_FIELD_IN_CDB);
        assertThat(outcome(a.send(REMOVABLE, preventAllow(3)))).isEqualTo(INVALID_FIELD_IN_CDB);
        assertThat(outcome(a.send(REMOVABLE, eject()))).as("nothing was prevented").isEqualTo(GOOD);
    }

    /** A memory device that counts flushes (eject writes cached data first unless NO_FLUSH). */
    private static final class FlushCountingDevice implements BlockDevice {
        private final MemoryBlockDevice inner;
        private final AtomicLong flushes = new AtomicLong();

        FlushCountingDevice(MemoryBlockDevice inner) {
            this.inner = inner;
        }

        long flushCount() {
            return flushes.get();
        }

        @Override public int blockSize() { return inner.blockSize(); }
        @Override public long blockCount() { return inner.blockCount(); }
        @Override public boolean readOnly() { return false; }
        @Override public CompletableFuture<Void> read(long lba, ByteBuffer dst) { return inner.read(lba, dst); }

        @Override
        public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
            return inner.write(lba, src, forceUnitAccess);
        }

        @Override
        public CompletableFuture<Void> flush() {
            flushes.incrementAndGet();
            return inner.flush();
        }

        @Override public void close() { inner.close(); }
    }

    private static byte[] filled(int value) {
        byte[] b = new byte[512];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }
}
