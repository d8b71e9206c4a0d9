package io.tandem.it.tandem;

import io.tandem.it.support.TandemProcess;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Persistent reservations end to end over iSCSI, in the spirit of Windows Failover Cluster
 * validation's "SCSI-3 Persistent Reservation" checks, and APTPL state surviving a kill -9 of the
 * target process.
 */
class TandemPersistentReservationTest {

    static final int REGISTER = 0x00, RESERVE = 0x01, RELEASE = 0x02, CLEAR = 0x03, PREEMPT = 0x04;
    /** Write Exclusive - Registrants Only: what Windows Failover Clustering reserves with. */
    static final int WE_RO = 0x5;
    static final long KEY_NODE1 = 0x1122334455667701L;
    static final long KEY_NODE2 = 0x1122334455667702L;
    static final String TARGET = "iqn.2025-01.io.tandem.it:pr";

    @TempDir
    Path dir;

    private static LoginOptions node(String name, int isidTail) {
        return LoginOptions.normal(TARGET).initiatorName(name)
                .isid(new byte[]{(byte) 0x80, 0x12, 0x34, 0x56, 0x00, (byte) isidTail});
    }

    private static byte[] block(int fill) {
        byte[] b = new byte[512];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private static ScsiResult write(ScsiDevice d, int fill) throws IOException {
        return d.session().execute(d.write10Request(8, block(fill)));
    }

    private static void assertGood(ScsiResult r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(ScsiResult.GOOD);
    }

    private static void assertConflict(ScsiResult r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    }

    /** Sends TEST UNIT READY until GOOD, returning the unit attentions seen on the way (key/asc/ascq as 0xKKAAQQ). */
    private static List<Integer> drainUnitAttentions(ScsiDevice d) throws IOException {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ScsiResult r = d.testUnitReady();
            if (r.isGood()) {
                return seen;
            }
            Sense s = r.sense();
            assertThat(s).as(r.toString()).isNotNull();
            assertThat(s.key()).as(r.toString()).isEqualTo(Sense.UNIT_ATTENTION);
            seen.add((s.key() << 16) | (s.asc() << 8) | s.ascq());
        }
        throw new AssertionError("unit attentions did not stop");
    }

    @Test
    @Timeout(60)
    void clusterValidationStyleReservationSequence() throws Exception {
        NodeConfig config = NodeConfig.builder().portal(new InetSocketAddress("127.0.0.1", 0)).dataDir(dir)
                .targetName(TARGET).lun(0, 16L << 20, 512).shutdownGrace(Duration.ofSeconds(1)).build();
        try (TandemNode target = TandemNode.start(config);
             IscsiSession s1 = IscsiSession.login(target.portal(), node("iqn.1991-05.com.microsoft:node1", 1));
             IscsiSession s2 = IscsiSession.login(target.portal(), node("iqn.1991-05.com.microsoft:node2", 2));
             IscsiSession s3 = IscsiSession.login(target.portal(), node("iqn.1991-05.com.microsoft:outsider", 3))) {
            ScsiDevice node1 = s1.device(0);
            ScsiDevice node2 = s2.device(0);
            ScsiDevice outsider = s3.device(0);
            drainUnitAttentions(node1);
            drainUnitAttentions(node2);
            drainUnitAttentions(outsider);

            // both nodes register; node1 takes the Registrants Only reservation
            assertGood(node1.persistentReserveOut(REGISTER, 0, 0, KEY_NODE1, false));
            assertGood(node2.persistentReserveOut(REGISTER, 0, 0, KEY_NODE2, false));
            assertThat(node2.readKeys().keys()).containsExactly(KEY_NODE1, KEY_NODE2);
            assertGood(node1.persistentReserveOut(RESERVE, WE_RO, KEY_NODE1, 0, false));
            ScsiDevice.ReservationStatus held = node2.readReservation();
            assertThat(held.key()).isEqualTo(KEY_NODE1);
            assertThat(held.type()).isEqualTo(WE_RO);

            // a second reservation conflicts; an unregistered initiator may read but not write
            assertConflict(node2.persistentReserveOut(RESERVE, WE_RO, KEY_NODE2, 0, false));
            assertGood(write(node1, 1));
            assertGood(write(node2, 2)); // Registrants Only: every registrant writes (what cluster shared volumes need)
            assertConflict(write(outsider, 3));
            assertThat(outsider.read10(8, 1)).isEqualTo(block(2));

            // node2 unregisters: now its writes conflict too
            assertGood(node2.persistentReserveOut(REGISTER, 0, KEY_NODE2, 0, false));
            assertConflict(write(node2, 4));

            // node2 comes back and preempts node1 (the arbitration a surviving node runs)
            assertGood(node2.persistentReserveOut(REGISTER, 0, 0, KEY_NODE2, false));
            long generation = node2.readKeys().generation();
            assertGood(node2.persistentReserveOut(PREEMPT, WE_RO, KEY_NODE2, KEY_NODE1, false));
            assertThat(drainUnitAttentions(node1)).containsExactly(0x062A05); // REGISTRATIONS PREEMPTED
            assertConflict(write(node1, 5));
            ScsiDevice.ReservationKeys keys = node2.readKeys();
            assertThat(keys.keys()).containsExactly(KEY_NODE2);
            assertThat(keys.generation()).isEqualTo(generation + 1);
            assertThat(node1.readReservation().key()).isEqualTo(KEY_NODE2);
            assertGood(write(node2, 6));

            // release, then clear everything
            assertGood(node2.persistentReserveOut(RELEASE, WE_RO, KEY_NODE2, 0, false));
            assertThat(node2.readReservation().reserved()).isFalse();
            assertGood(node1.persistentReserveOut(REGISTER, 0, 0, KEY_NODE1, false));
            assertGood(node1.persistentReserveOut(CLEAR, 0, KEY_NODE1, 0, false));
            assertThat(drainUnitAttentions(node2)).containsExactly(0x062A03); // RESERVATIONS PREEMPTED
            assertThat(node2.readKeys().keys()).isEmpty();
            assertGood(write(outsider, 7));
        }
    }

    // ------------------------------------------------------------------ APTPL across kill -9

    /** This test's server in its own JVM. */
    private static TandemProcess server(Path data) throws Exception {
        return TandemProcess.serve("--data", data.toString(), "--target-name", TARGET, "--lun-size", "16M");
    }

    @Test
    @Timeout(120)
    void aptplRegistrationsAndReservationSurviveKillMinus9() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        ScsiDevice.ReservationKeys keysBefore;
        ScsiDevice.ReservationStatus reservationBefore;
        try (TandemProcess server = server(data);
             IscsiSession s1 = IscsiSession.login(server.portal(), node("iqn.1991-05.com.microsoft:node1", 1));
             IscsiSession s2 = IscsiSession.login(server.portal(), node("iqn.1991-05.com.microsoft:node2", 2))) {
            ScsiDevice node1 = s1.device(0);
            ScsiDevice node2 = s2.device(0);
            drainUnitAttentions(node1);
            drainUnitAttentions(node2);
            assertGood(node1.persistentReserveOut(REGISTER, 0, 0, KEY_NODE1, true));
            assertGood(node2.persistentReserveOut(REGISTER, 0, 0, KEY_NODE2, true));
            assertGood(node1.persistentReserveOut(RESERVE, WE_RO, KEY_NODE1, 0, false));
            keysBefore = node1.readKeys();
            reservationBefore = node1.readReservation();
            assertThat(keysBefore.keys()).containsExactly(KEY_NODE1, KEY_NODE2);
            server.kill9();
        }

        try (TandemProcess server = server(data);
             IscsiSession s1 = IscsiSession.login(server.portal(), node("iqn.1991-05.com.microsoft:node1", 1));
             IscsiSession s3 = IscsiSession.login(server.portal(), node("iqn.1991-05.com.microsoft:outsider", 3))) {
            ScsiDevice node1 = s1.device(0);
            ScsiDevice outsider = s3.device(0);
            drainUnitAttentions(node1);
            drainUnitAttentions(outsider);
            assertThat(outsider.readKeys()).isEqualTo(keysBefore);
            assertThat(outsider.readReservation()).isEqualTo(reservationBefore);
            assertConflict(write(outsider, 9));
            assertGood(write(node1, 8)); // the same initiator port is still the holder
            // REPORT CAPABILITIES: PTPL_A (persist through power loss active)
            byte[] caps = node1.persistentReserveIn(0x02, 8).requireGood();
            assertThat(caps[3] & 0x01).isEqualTo(1);
        }
    }
}
