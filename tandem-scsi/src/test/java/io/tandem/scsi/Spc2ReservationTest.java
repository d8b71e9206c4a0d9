package io.tandem.scsi;

import static io.tandem.scsi.PersistentReservationTest.assertConflict;
import static io.tandem.scsi.PersistentReservationTest.assertGood;
import static io.tandem.scsi.PersistentReservationTest.assertSense;
import static io.tandem.scsi.PersistentReservationTest.read;
import static io.tandem.scsi.PersistentReservationTest.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SPC-2 RESERVE/RELEASE (6) and (10), and how SPC-4 5.13.3 makes them yield to persistent reservations. */
@Timeout(30)
class Spc2ReservationTest {

    static final int UA_LU_RESET = 0x062903;

    ScsiTarget target;
    Initiator a;
    Initiator b;

    @BeforeEach
    void start() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:spc2", List.of(new LunSpec(0, "lun0", new MemoryBlockDevice(512, 256), false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        b = new Initiator(target, "iqn.2025-01.test:b", 1).login(0);
    }

    @AfterEach
    void stop() {
        target.close();
    }

    @Test
    void oneNexusReservesTheOthersGetConflictsExceptForTheAllowedCommands() {
        assertGood(a.send(0, Pr.reserve6()));
        assertGood(a.send(0, Pr.reserve6()));                 // the holder may reserve again
        assertConflict(b.send(0, Pr.reserve6()));
        assertGood(b.send(0, Pr.release6()));                 // not the holder: GOOD, nothing released
        assertConflict(b.send(0, Cdb.modeSense6(false, 0, 0x3F, 0, 255)));
        assertConflict(read(b));
        assertConflict(b.send(0, Pr.in(Pr.READ_KEYS, 100)));
        assertGood(b.send(0, Cdb.inquiry(false, 0, 96)));
        assertGood(b.send(0, Cdb.reportLuns(0, 256)));
        assertGood(b.send(0, Cdb.requestSense(252)));
        assertGood(write(a));
        assertGood(a.send(0, Pr.release6()));
        assertGood(b.send(0, Pr.reserve10()));
        assertGood(write(b));
        assertConflict(write(a));
        assertGood(b.send(0, Pr.release10()));
        assertGood(write(a));
    }

    @Test
    void nexusLossReleasesTheReservation() {
        assertGood(a.send(0, Pr.reserve6()));
        target.nexusRemoved(a.nexus);
        assertGood(b.send(0, Pr.reserve6()));
    }

    @Test
    void logicalUnitResetReleasesTheReservation() throws Exception {
        assertGood(a.send(0, Pr.reserve6()));
        assertThat(target.taskManagement(a.nexus, TaskManagementFunction.LOGICAL_UNIT_RESET, Initiator.lunField(0), 0)
                .get(5, TimeUnit.SECONDS)).isEqualTo(TaskManagementResult.FUNCTION_COMPLETE);
        assertSense(b.send(0, Pr.reserve6()), UA_LU_RESET);
        assertGood(b.send(0, Pr.reserve6()));
    }

    @Test
    void registrationsMakeReserveAndReleaseConflictExceptForTheHolder() {
        assertGood(Pr.register(a, 0, 0xAA, 0));
        assertConflict(b.send(0, Pr.reserve6()));             // registrations exist, b is not a holder
        assertConflict(a.send(0, Pr.reserve6()));             // registered, but no reservation
        assertConflict(b.send(0, Pr.release6()));
        assertGood(Pr.reserve(a, 0xAA, Pr.WE));
        assertGood(a.send(0, Pr.reserve6()));                 // the holder: GOOD, nothing changes
        assertGood(read(b));                                  // so b is not locked out by an SPC-2 reservation
        assertGood(a.send(0, Pr.release6()));
        assertThat(Pr.readReservation(a)).isEqualTo(new Pr.Reservation(0xAA, Pr.WE));
        assertGood(Pr.register(b, 0, 0xBB, 0));
        assertConflict(b.send(0, Pr.reserve6()));             // registrant of a WE reservation: conflict
        assertGood(Pr.release(a, 0xAA, Pr.WE));
        assertGood(Pr.reserve(a, 0xAA, Pr.WE_RO));
        assertGood(b.send(0, Pr.reserve6()));                 // registrant of a Registrants Only reservation
    }

    @Test
    void persistentReserveOutConflictsUnderAnotherNexusSpc2Reservation() {
        assertGood(a.send(0, Pr.reserve6()));
        assertConflict(Pr.register(b, 0, 0xBB, 0));
        assertGood(Pr.register(a, 0, 0xAA, 0));
    }
}
