package io.tandem.scsi;

import static io.tandem.scsi.Pr.ALL_TG_PT;
import static io.tandem.scsi.Pr.APTPL;
import static io.tandem.scsi.Pr.EA;
import static io.tandem.scsi.Pr.EA_AR;
import static io.tandem.scsi.Pr.EA_RO;
import static io.tandem.scsi.Pr.SPEC_I_PT;
import static io.tandem.scsi.Pr.WE;
import static io.tandem.scsi.Pr.WE_AR;
import static io.tandem.scsi.Pr.WE_RO;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.LocalCoordinator;
import io.tandem.scsi.core.LuIdentity;
import io.tandem.storage.MemoryBlockDevice;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SPC-4 persistent reservations through {@link ScsiTarget}: every service action, the conflict matrix, UAs. */
@Timeout(30)
class PersistentReservationTest {

    static final int BLOCK = 512;
    static final int UA_RESERVATIONS_PREEMPTED = 0x062A03;
    static final int UA_RESERVATIONS_RELEASED = 0x062A04;
    static final int UA_REGISTRATIONS_PREEMPTED = 0x062A05;
    static final int INVALID_FIELD_IN_CDB = 0x052400;
    static final int INVALID_FIELD_IN_PARAMETER_LIST = 0x052600;
    static final int PARAMETER_LIST_LENGTH_ERROR = 0x051A00;
    static final int INVALID_RELEASE = 0x052604;

    static final long KA = 0xA1A1A1A1A1A1A1A1L;
    static final long KB = 0xB2B2B2B2L;
    static final long KC = 0x0C;

    ScsiTarget target;
    Initiator a;
    Initiator b;
    Initiator c;

    @BeforeEach
    void start() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:pr", List.of(new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, 1024), false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        b = new Initiator(target, "iqn.2025-01.test:b", 1).login(0);
        c = new Initiator(target, "iqn.2025-01.test:c", 1).login(0);
    }

    @AfterEach
    void stop() {
        target.close();
    }

    static Initiator.Result read(Initiator i) {
        return i.send(0, Cdb.read10(1, 1));
    }

    static Initiator.Result write(Initiator i) {
        byte[] data = new byte[BLOCK];
        Arrays.fill(data, (byte) 0x5A);
        return i.sendOut(0, Cdb.write10(1, 1), data);
    }

    static void assertGood(Initiator.Result r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(ScsiResponse.GOOD);
    }

    static void assertConflict(Initiator.Result r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(ScsiResponse.RESERVATION_CONFLICT);
        assertThat(r.sense()).isNull();
    }

    static void assertSense(Initiator.Result r, int code) {
        assertThat(r.status()).as(r.toString()).isEqualTo(ScsiResponse.CHECK_CONDITION);
        assertThat(r.senseCode()).as(r.toString()).isEqualTo(code);
    }

    // ------------------------------------------------------------------ REGISTER and READ KEYS

    @Test
    void aFreshLuHasNoKeysNoReservationAndGenerationZero() {
        assertThat(Pr.readKeys(a)).isEqualTo(new Pr.Keys(0, List.of()));
        assertThat(Pr.readReservation(a)).isNull();
    }

    @Test
    void registerChangeKeyAndUnregisterEachBumpTheGeneration() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertThat(Pr.readKeys(b)).isEqualTo(new Pr.Keys(1, List.of(KA)));
        assertConflict(Pr.register(a, 0, 0x77, 0));           // registered: RESERVATION KEY must be its key
        assertConflict(Pr.register(b, 0x99, KB, 0));          // unregistered: RESERVATION KEY must be 0
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.register(a, KA, 0x77, 0));
        assertThat(Pr.readKeys(c)).isEqualTo(new Pr.Keys(3, List.of(0x77L, KB)));
        assertGood(Pr.register(a, 0x77, 0, 0));
        assertThat(Pr.readKeys(c)).isEqualTo(new Pr.Keys(4, List.of(KB)));
        assertGood(Pr.register(c, 0, 0, 0));                  // unregistering nobody changes nothing
        assertThat(Pr.readKeys(c).generation()).isEqualTo(4);
    }

    @Test
    void registerAndIgnoreExistingKeyReplacesAnyKey() {
        assertGood(Pr.registerAndIgnore(a, KA, 0));
        assertGood(Pr.registerAndIgnore(a, KB, 0));
        assertThat(Pr.readKeys(a)).isEqualTo(new Pr.Keys(2, List.of(KB)));
        assertGood(Pr.registerAndIgnore(a, 0, 0));
        assertThat(Pr.readKeys(a).keys()).isEmpty();
    }

    @Test
    void readKeysKeepsTheFullLengthWhenTruncated() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        Initiator.Result r = a.send(0, Pr.in(Pr.READ_KEYS, 8));
        assertGood(r);
        assertThat(r.data()).hasSize(8);
        assertThat(Pr.u32(r.data(), 4)).isEqualTo(16);
    }

    @Test
    void unknownServiceActionsAndParameterListErrorsAreRefused() {
        assertSense(a.send(0, Pr.in(4, 100)), INVALID_FIELD_IN_CDB);
        assertSense(a.sendOut(0, Pr.out(Pr.REGISTER, 0, 23), new byte[23]), PARAMETER_LIST_LENGTH_ERROR);
        assertSense(a.sendOut(0, Pr.out(Pr.REGISTER, 0, 28), new byte[28]), PARAMETER_LIST_LENGTH_ERROR);
        byte[] reserved = Pr.parameters(0, KA, 0);
        reserved[20] = 0x02;
        assertSense(Pr.outCommand(a, Pr.REGISTER, 0, reserved), INVALID_FIELD_IN_PARAMETER_LIST);
        assertGood(Pr.register(a, 0, KA, 0));
        assertSense(Pr.reserve(a, KA, 2), INVALID_FIELD_IN_CDB);      // obsolete type
        assertSense(Pr.reserve(a, KA, 0x10 | WE), INVALID_FIELD_IN_CDB); // scope other than LU
        assertThat(Pr.readReservation(a)).isNull();
    }

    // ------------------------------------------------------------------ RESERVE / RELEASE

    @ParameterizedTest
    @ValueSource(ints = {WE, EA, WE_RO, EA_RO, WE_AR, EA_AR})
    void reserveNeedsARegistrationWithItsKeyAndLeavesTheGeneration(int type) {
        assertConflict(Pr.reserve(a, 0, type));
        assertGood(Pr.register(a, 0, KA, 0));
        assertConflict(Pr.reserve(a, KB, type));
        assertGood(Pr.reserve(a, KA, type));
        assertGood(Pr.reserve(a, KA, type)); // again, same type: no change
        boolean allRegistrants = type == WE_AR || type == EA_AR;
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(allRegistrants ? 0 : KA, type));
        assertThat(Pr.readKeys(b).generation()).isEqualTo(1);
        assertGood(Pr.release(a, KA, type));
        assertThat(Pr.readReservation(b)).isNull();
        assertThat(Pr.readKeys(b).generation()).isEqualTo(1);
    }

    @Test
    void aSecondReservationConflictsAndANonHolderReleaseChangesNothing() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, WE));
        assertConflict(Pr.reserve(b, KB, WE));
        assertConflict(Pr.reserve(a, KA, EA));        // the holder, another type
        assertGood(Pr.release(b, KB, WE));
        assertThat(Pr.readReservation(c)).isEqualTo(new Pr.Reservation(KA, WE));
        assertSense(Pr.release(a, KA, EA), INVALID_RELEASE);
        assertGood(Pr.release(a, KA, WE));
    }

    /** Expected outcomes: [registered non-holder read, write, unregistered read, write] (SPC-4 5.13.1). */
    static boolean[] access(int type) {
        return switch (type) {
            case WE -> new boolean[]{true, false, true, false};
            case EA -> new boolean[]{false, false, false, false};
            case WE_RO, WE_AR -> new boolean[]{true, true, true, false};
            case EA_RO, EA_AR -> new boolean[]{true, true, false, false};
            default -> throw new IllegalArgumentException();
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {WE, EA, WE_RO, EA_RO, WE_AR, EA_AR})
    void conflictMatrixForEachType(int type) {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, type));
        boolean[] expected = access(type);

        assertGood(read(a));
        assertGood(write(a));
        check(read(b), expected[0]);
        check(write(b), expected[1]);
        check(read(c), expected[2]);
        check(write(c), expected[3]);

        // commands SPC-4 lets through every reservation
        assertGood(c.send(0, Cdb.testUnitReady()));
        assertGood(c.send(0, Cdb.inquiry(false, 0, 96)));
        assertGood(c.send(0, Cdb.readCapacity10()));
        assertGood(c.send(0, Pr.in(Pr.READ_KEYS, 100)));
        // MODE SENSE passes Write Exclusive types only; MODE SELECT never passes a non-registrant
        check(c.send(0, Cdb.modeSense6(false, 0, 0x3F, 0, 255)), type == WE || type == WE_RO || type == WE_AR);
        assertConflict(c.sendOut(0, Cdb.modeSelect6(true, false, 4), new byte[4]));
    }

    private static void check(Initiator.Result r, boolean allowed) {
        if (allowed) {
            assertGood(r);
        } else {
            assertConflict(r);
        }
    }

    @Test
    void theHolderUnregisteringReleasesItsReservationButAllRegistrantsReservationsStay() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, WE_RO));
        assertGood(Pr.register(a, KA, 0, 0));
        assertSense(b.send(0, Cdb.testUnitReady()), UA_RESERVATIONS_RELEASED);
        assertThat(Pr.readReservation(b)).isNull();

        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.reserve(a, KA, EA_AR));
        assertGood(Pr.register(a, KA, 0, 0));
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(0, EA_AR));
        assertGood(write(b));
        assertConflict(write(a));
        assertGood(Pr.release(b, KB, EA_AR));
        assertGood(write(a));
    }

    @Test
    void releasingARegistrantsOnlyReservationTellsTheOtherRegistrantsOnly() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, EA_RO));
        assertGood(Pr.release(a, KA, EA_RO));
        assertSense(b.send(0, Cdb.testUnitReady()), UA_RESERVATIONS_RELEASED);
        assertGood(a.send(0, Cdb.testUnitReady()));
        assertGood(c.send(0, Cdb.testUnitReady()));
    }

    // ------------------------------------------------------------------ CLEAR

    @Test
    void clearRemovesEverythingAndTellsTheOtherRegistrants() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.reserve(a, KA, EA));
        long generation = Pr.readKeys(a).generation();
        assertConflict(Pr.clear(c, 0));
        assertConflict(Pr.clear(b, KA));
        assertGood(Pr.clear(b, KB));
        assertSense(a.send(0, Cdb.testUnitReady()), UA_RESERVATIONS_PREEMPTED);
        assertThat(Pr.readKeys(a)).isEqualTo(new Pr.Keys(generation + 1, List.of()));
        assertThat(Pr.readReservation(a)).isNull();
        assertGood(b.send(0, Cdb.testUnitReady()));
        assertGood(c.send(0, Cdb.testUnitReady()));
        assertGood(write(c));
    }

    // ------------------------------------------------------------------ PREEMPT

    @Test
    void preemptingTheHolderTakesOverTheReservationWithTheNewType() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.register(c, 0, KC, 0));
        assertGood(Pr.reserve(a, KA, WE_RO));
        long generation = Pr.readKeys(a).generation();
        assertGood(Pr.preempt(b, KB, KA, EA_RO));
        assertThat(Pr.readKeys(b)).isEqualTo(new Pr.Keys(generation + 1, List.of(KB, KC)));
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(KB, EA_RO));
        assertSense(a.send(0, Cdb.testUnitReady()), UA_REGISTRATIONS_PREEMPTED);
        assertConflict(write(a));
        assertConflict(read(a));
        assertSense(c.send(0, Cdb.testUnitReady()), UA_RESERVATIONS_RELEASED); // the type changed under it
        assertGood(write(c));
        assertGood(b.send(0, Cdb.testUnitReady()));
    }

    @Test
    void preemptWithoutAReservationRemovesTheRegistrationsWithThatKey() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertSense(Pr.preempt(b, KB, 0, EA), INVALID_FIELD_IN_PARAMETER_LIST);
        assertConflict(Pr.preempt(b, KB, 0x1234, EA));    // no registration has that key
        assertConflict(Pr.preempt(c, 0, KA, EA));         // not registered
        assertGood(Pr.preempt(b, KB, KA, EA));
        assertThat(Pr.readKeys(b).keys()).containsExactly(KB);
        assertThat(Pr.readReservation(b)).isNull();
        assertSense(a.send(0, Cdb.testUnitReady()), UA_REGISTRATIONS_PREEMPTED);
    }

    @Test
    void preemptOfANonHolderKeyLeavesTheReservation() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.register(c, 0, KC, 0));
        assertGood(Pr.reserve(a, KA, WE));
        assertGood(Pr.preempt(b, KB, KC, WE));
        assertThat(Pr.readKeys(a).keys()).containsExactly(KA, KB);
        assertThat(Pr.readReservation(a)).isEqualTo(new Pr.Reservation(KA, WE));
    }

    @Test
    void preemptingAnAllRegistrantsReservationWithKeyZeroRemovesEveryoneElse() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        assertGood(Pr.register(c, 0, KC, 0));
        assertGood(Pr.reserve(a, KA, WE_AR));
        assertGood(Pr.preempt(b, KB, 0, EA));
        assertThat(Pr.readKeys(b).keys()).containsExactly(KB);
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(KB, EA));
        assertSense(a.send(0, Cdb.testUnitReady()), UA_REGISTRATIONS_PREEMPTED);
        assertSense(c.send(0, Cdb.testUnitReady()), UA_REGISTRATIONS_PREEMPTED);
        assertConflict(read(c));
    }

    // ------------------------------------------------------------------ SPEC_I_PT, ALL_TG_PT, READ FULL STATUS

    @Test
    void specIPtRegistersTheNamedPortsAndDevices() {
        Initiator cOnPort2 = new Initiator(target, "iqn.2025-01.test:c", 2).login(0);
        byte[] p = Pr.parameters(0, KA, SPEC_I_PT,
                Pr.transportId("iqn.2025-01.test:b", 0x23D000000001L), Pr.transportId("IQN.2025-01.TEST:C", null));
        assertGood(Pr.outCommand(a, Pr.REGISTER, 0, p));
        assertThat(Pr.readKeys(a)).isEqualTo(new Pr.Keys(1, List.of(KA, KA, KA)));
        assertGood(Pr.reserve(b, KA, WE));            // b was registered by a
        assertGood(write(b));
        assertConflict(write(cOnPort2));             // the device name registration covers target port 1 only
        assertConflict(write(c));                    // registered, but not the holder of a WE reservation

        Initiator.Result full = a.send(0, Pr.in(Pr.READ_FULL_STATUS, 4096));
        assertGood(full);
        byte[] d = full.data();
        assertThat(Pr.u32(d, 0)).isEqualTo(1);
        int at = 8;
        String[] expected = {"iqn.2025-01.test:a,i,0x23d000000001", "iqn.2025-01.test:b,i,0x23d000000001", "iqn.2025-01.test:c"};
        for (int i = 0; i < 3; i++) {
            assertThat(Pr.u64(d, at)).isEqualTo(KA);
            boolean holder = i == 1;
            assertThat(d[at + 12] & 0x03).isEqualTo(holder ? 0x01 : 0x00);
            assertThat(d[at + 13] & 0x0F).isEqualTo(holder ? WE : 0);
            assertThat(Pr.u16(d, at + 18)).isEqualTo(1);
            int idLength = (int) Pr.u32(d, at + 20);
            assertThat(d[at + 24] & 0xFF).isEqualTo(i < 2 ? 0x45 : 0x05);
            String name = new String(d, at + 28, idLength - 4, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "");
            assertThat(name).isEqualTo(expected[i]);
            at += 24 + idLength;
        }
        assertThat(at).isEqualTo(d.length);
    }

    @Test
    void specIPtRefusesBadTransportIdsAndRegisteredIssuers() {
        byte[] badProtocol = Pr.transportId("iqn.2025-01.test:b", null);
        badProtocol[0] = 0x01; // SAS
        assertSense(Pr.outCommand(a, Pr.REGISTER, 0, Pr.parameters(0, KA, SPEC_I_PT, badProtocol)), INVALID_FIELD_IN_PARAMETER_LIST);
        byte[] lengthMismatch = Pr.parameters(0, KA, SPEC_I_PT, Pr.transportId("iqn.2025-01.test:b", null));
        Cdb.put32(lengthMismatch, 24, 8);
        assertSense(Pr.outCommand(a, Pr.REGISTER, 0, lengthMismatch), PARAMETER_LIST_LENGTH_ERROR);
        assertSense(Pr.outCommand(a, Pr.REGISTER_AND_IGNORE, 0,
                Pr.parameters(0, KA, SPEC_I_PT, Pr.transportId("iqn.2025-01.test:b", null))), INVALID_FIELD_IN_PARAMETER_LIST);
        assertGood(Pr.register(b, 0, KB, 0));
        assertSense(Pr.outCommand(a, Pr.REGISTER, 0,
                Pr.parameters(0, KA, SPEC_I_PT, Pr.transportId("iqn.2025-01.test:b", null))), INVALID_FIELD_IN_PARAMETER_LIST);
        assertThat(Pr.readKeys(a).keys()).containsExactly(KB);
    }

    @Test
    void allTgPtRegistersTheInitiatorPortOnEveryTargetPort() {
        Initiator aOnPort2 = new Initiator(target, "iqn.2025-01.test:a", 2).login(0);
        assertGood(Pr.register(a, 0, KA, ALL_TG_PT));
        assertThat(Pr.readKeys(a).keys()).containsExactly(KA);
        assertGood(Pr.reserve(aOnPort2, KA, EA));
        assertGood(write(a));
        assertGood(write(aOnPort2));
        assertConflict(write(b));
        Initiator.Result full = a.send(0, Pr.in(Pr.READ_FULL_STATUS, 4096));
        assertThat(full.data()[8 + 12] & 0x03).isEqualTo(0x03); // ALL_TG_PT and R_HOLDER
    }

    // ------------------------------------------------------------------ REGISTER AND MOVE

    @Test
    void registerAndMoveHandsTheReservationToAnotherPort() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.reserve(a, KA, WE));
        byte[] toB = Pr.moveParameters(KA, KB, true, false, 1, Pr.transportId("iqn.2025-01.test:b", 0x23D000000001L));
        assertConflict(Pr.outCommand(c, Pr.REGISTER_AND_MOVE, 0, toB));     // c is not registered
        assertGood(Pr.outCommand(a, Pr.REGISTER_AND_MOVE, 0, toB));
        assertThat(Pr.readKeys(b)).isEqualTo(new Pr.Keys(2, List.of(KB)));  // a unregistered (UNREG)
        assertThat(Pr.readReservation(b)).isEqualTo(new Pr.Reservation(KB, WE));
        assertGood(write(b));
        assertConflict(write(a));
        byte[] toSelf = Pr.moveParameters(KB, KC, false, false, 1, Pr.transportId("iqn.2025-01.test:b", 0x23D000000001L));
        assertSense(Pr.outCommand(b, Pr.REGISTER_AND_MOVE, 0, toSelf), INVALID_FIELD_IN_PARAMETER_LIST);
    }

    @Test
    void registerAndMoveNeedsAHolderOfANonAllRegistrantsReservation() {
        assertGood(Pr.register(a, 0, KA, 0));
        assertGood(Pr.register(b, 0, KB, 0));
        byte[] toC = Pr.moveParameters(KA, KC, false, false, 1, Pr.transportId("iqn.2025-01.test:c", 0x23D000000001L));
        assertConflict(Pr.outCommand(a, Pr.REGISTER_AND_MOVE, 0, toC));     // nothing reserved
        assertGood(Pr.reserve(a, KA, WE_AR));
        assertConflict(Pr.outCommand(a, Pr.REGISTER_AND_MOVE, 0, toC));     // all registrants
        assertGood(Pr.release(a, KA, WE_AR));
        assertSense(b.send(0, Cdb.testUnitReady()), UA_RESERVATIONS_RELEASED);
        assertGood(Pr.reserve(b, KB, EA));
        assertConflict(Pr.outCommand(a, Pr.REGISTER_AND_MOVE, 0, toC));     // a does not hold it
    }

    // ------------------------------------------------------------------ REPORT CAPABILITIES

    @Test
    void reportCapabilitiesListsEveryTypeAndThePersistenceState() {
        Initiator.Result r = a.send(0, Pr.in(Pr.REPORT_CAPABILITIES, 100));
        assertGood(r);
        byte[] d = r.data();
        assertThat(Pr.u16(d, 0)).isEqualTo(8);
        assertThat(d[2] & 0x1D).isEqualTo(0x1D);         // CRH, SIP_C, ATP_C, PTPL_C
        assertThat(d[3] & 0x81).isEqualTo(0x80);         // TMV, PTPL_A clear
        assertThat(Pr.u16(d, 4)).isEqualTo(0xEA01);      // all six types
        assertGood(Pr.register(a, 0, KA, APTPL));
        assertThat(a.send(0, Pr.in(Pr.REPORT_CAPABILITIES, 100)).data()[3] & 0x01).isEqualTo(1);
    }

    // ------------------------------------------------------------------ APTPL across restarts

    @Test
    void aptplRegistrationsAndReservationSurviveARestartOverTheSameStateDirectory(@TempDir Path dir) {
        target.close();
        ScsiTarget first = persistentTarget(dir);
        Initiator x = new Initiator(first, "iqn.2025-01.test:x", 1).login(0);
        Initiator y = new Initiator(first, "iqn.2025-01.test:y", 1).login(0);
        assertGood(Pr.register(x, 0, KA, APTPL));
        assertGood(Pr.register(y, 0, KB, APTPL));
        assertGood(Pr.reserve(x, KA, WE_RO));
        Pr.Keys keys = Pr.readKeys(x);
        first.close();

        ScsiTarget second = persistentTarget(dir);
        target = second;
        Initiator x2 = new Initiator(second, "iqn.2025-01.test:x", 1).login(0);
        Initiator z = new Initiator(second, "iqn.2025-01.test:z", 1).login(0);
        assertThat(Pr.readKeys(z)).isEqualTo(keys);
        assertThat(Pr.readReservation(z)).isEqualTo(new Pr.Reservation(KA, WE_RO));
        assertConflict(write(z));
        assertGood(write(x2));
        assertConflict(Pr.register(x2, 0, KC, 0));    // still registered with its old key
    }

    @Test
    void withoutAptplNothingButTheGenerationSurvivesARestart(@TempDir Path dir) {
        target.close();
        ScsiTarget first = persistentTarget(dir);
        Initiator x = new Initiator(first, "iqn.2025-01.test:x", 1).login(0);
        assertGood(Pr.register(x, 0, KA, APTPL));
        assertGood(Pr.register(x, KA, KB, 0));        // the last registration turned APTPL off
        assertGood(Pr.reserve(x, KB, EA));
        first.close();
        ScsiTarget second = persistentTarget(dir);
        target = second;
        Initiator z = new Initiator(second, "iqn.2025-01.test:z", 1).login(0);
        assertThat(Pr.readKeys(z)).isEqualTo(new Pr.Keys(2, List.of()));
        assertThat(Pr.readReservation(z)).isNull();
        assertGood(write(z));
    }

    private static ScsiTarget persistentTarget(Path dir) {
        return new ScsiTarget("iqn.2025-01.io.tandem:pr", List.of(new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, 64), false)),
                LuIdentity.DEFAULT_COMPANY_ID, LocalCoordinator.persistent(dir));
    }
}
