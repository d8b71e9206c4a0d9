package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.DiscoveredTarget;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginException;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * LUN masking and live LUN changes over iSCSI, seen by two initiators with different ACLs through
 * the Java test initiator: each sees only its LUNs, a third is refused at login, and LUNs added,
 * removed or re-masked while the sessions run show up as REPORTED LUNS DATA HAS CHANGED followed by
 * a new REPORT LUNS answer.
 */
@Timeout(60)
class TandemLunMaskingTest {

    private static final String ALICE = "iqn.2025-01.io.tandem.it:alice";
    private static final String BOB = "iqn.2025-01.io.tandem.it:bob";
    private static final String CAROL = "iqn.2025-01.io.tandem.it:carol";
    private static final long MIB = 1 << 20;

    @TempDir
    Path dataDir;

    private TandemNode node;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private IscsiSession alice;
    private IscsiSession bob;

    @BeforeEach
    void start() throws IOException {
        NodeConfig config = NodeConfig.builder()
                .targetName("iqn.2025-01.io.tandem.it:masking")
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(dataDir)
                .initiators(List.of(ALICE, BOB))
                .lun(LunConfig.memory(0, 4 * MIB, 512))
                .lun(LunConfig.memory(1, 4 * MIB, 512).withInitiators(List.of(ALICE)))
                .lun(LunConfig.memory(2, 4 * MIB, 512).withInitiators(List.of(BOB)))
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        node = TandemNode.start(config, events::add);
        alice = login(ALICE);
        bob = login(BOB);
        settle(alice, 0, 1);
        settle(bob, 0, 2);
    }

    @AfterEach
    void stop() {
        for (IscsiSession s : Arrays.asList(alice, bob)) {
            if (s != null) {
                s.close();
            }
        }
        node.close();
    }

    private IscsiSession login(String initiator) throws IOException {
        return IscsiSession.login(node.portal(), LoginOptions.normal(node.targetName()).initiatorName(initiator));
    }

    /** Clears the unit attentions a fresh login (or a change) left on these LUNs. */
    private static void settle(IscsiSession s, int... luns) throws IOException {
        for (int lun : luns) {
            for (int i = 0; i < 4; i++) {
                ScsiResult r = s.device(lun).testUnitReady();
                if (r.isGood()) {
                    break;
                }
                assertThat(r.sense().key()).as("only unit attentions pending: %s", r).isEqualTo(Sense.UNIT_ATTENTION);
            }
        }
    }

    private static void assertReportedLunsChanged(ScsiResult r) {
        assertThat(r.status()).as("%s", r).isEqualTo(ScsiResult.CHECK_CONDITION);
        assertThat(r.sense().is(Sense.UNIT_ATTENTION, 0x3F, 0x0E)).as("%s", r.sense()).isTrue();
    }

    private static void assertNoLun(ScsiResult r) {
        assertThat(r.status()).as("%s", r).isEqualTo(ScsiResult.CHECK_CONDITION);
        assertThat(r.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("%s", r.sense()).isTrue();
    }

    @Test
    void eachInitiatorSeesOnlyItsLuns() throws IOException {
        assertThat(alice.device(0).reportLuns()).containsExactly(0, 1);
        assertThat(bob.device(0).reportLuns()).containsExactly(0, 2);

        ScsiDevice hidden = bob.device(1);
        ScsiDevice.Inquiry inquiry = hidden.inquiry();
        assertThat(inquiry.peripheralQualifier()).as("no LU here for Bob").isEqualTo(3);
        assertThat(inquiry.deviceType()).isEqualTo(0x1F);
        assertNoLun(hidden.testUnitReady());
        assertNoLun(bob.execute(ScsiRequest.read(1, Cdbs.read10(0, 1), 512)));
        assertThat(hidden.requestSense(false).is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).isTrue();

        byte[] secret = new byte[512];
        Arrays.fill(secret, (byte) 0x5A);
        alice.device(1).write10(0, secret);
        assertThat(alice.device(1).read10(0, 1)).isEqualTo(secret);
        assertNoLun(bob.execute(ScsiRequest.write(1, Cdbs.write10(0, 1), new byte[512])));
        assertThat(alice.device(1).read10(0, 1)).as("Bob's write never landed").isEqualTo(secret);
    }

    @Test
    void anInitiatorOffTheTargetListCannotLogInNorDiscoverTheTarget() throws IOException {
        assertThatThrownBy(() -> login(CAROL)).isInstanceOfSatisfying(LoginException.class, e -> {
            assertThat(e.statusClass()).as("initiator error").isEqualTo(0x02);
            assertThat(e.statusDetail()).as("authorization failure").isEqualTo(0x02);
        });
        assertThat(IscsiSession.discover(node.portal(), LoginOptions.discovery().initiatorName(CAROL))).isEmpty();
        assertThat(IscsiSession.discover(node.portal(), LoginOptions.discovery().initiatorName(ALICE)))
                .extracting(DiscoveredTarget::name).containsExactly(node.targetName());
    }

    @Test
    void aLunAddedAndRemovedLiveIsAnnouncedToTheRunningSessions() throws IOException {
        node.addLun(LunConfig.memory(7, 4 * MIB, 512));
        for (IscsiSession s : List.of(alice, bob)) {
            assertReportedLunsChanged(s.device(0).testUnitReady());
            assertThat(s.device(0).testUnitReady().isGood()).isTrue();
        }
        assertThat(alice.device(0).reportLuns()).containsExactly(0, 1, 7);
        assertThat(bob.device(0).reportLuns()).containsExactly(0, 2, 7);
        settle(bob, 7);
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 7);
        bob.device(7).write10(0, data);
        settle(alice, 7);
        assertThat(alice.device(7).read10(0, 2)).isEqualTo(data);

        node.removeLun(7);
        for (IscsiSession s : List.of(alice, bob)) {
            assertReportedLunsChanged(s.device(0).testUnitReady());
            assertNoLun(s.device(7).testUnitReady());
        }
        assertThat(alice.device(0).reportLuns()).containsExactly(0, 1);
        assertThat(bob.device(0).reportLuns()).containsExactly(0, 2);
        assertThat(events).anyMatch(e -> e.startsWith("lun 7 (lun7) added"))
                .anyMatch(e -> e.equals("lun 7 (lun7) removed"));
    }

    @Test
    void reMaskingALunTellsOnlyTheInitiatorsWhoseViewChanged() throws IOException {
        node.changeLunInitiators(1, List.of(ALICE, BOB));
        assertThat(alice.device(0).testUnitReady().isGood()).as("Alice already saw LUN 1").isTrue();
        assertReportedLunsChanged(bob.device(0).testUnitReady());
        assertThat(bob.device(0).reportLuns()).containsExactly(0, 1, 2);

        node.changeLunInitiators(1, List.of(BOB));
        assertReportedLunsChanged(alice.device(0).testUnitReady());
        assertThat(alice.device(0).reportLuns()).containsExactly(0);
        assertNoLun(alice.device(1).testUnitReady());
        assertThat(bob.device(0).testUnitReady().isGood()).as("Bob keeps LUN 1").isTrue();
    }

    @Test
    void reconfigureAppliesLunChangesAndReportsWhatNeedsARestart() throws IOException {
        NodeConfig wanted = node.config().withLuns(List.of(
                LunConfig.memory(0, 4 * MIB, 512),
                LunConfig.memory(1, 4 * MIB, 512).withInitiators(List.of(ALICE, BOB)),
                LunConfig.memory(2, 8 * MIB, 512).withInitiators(List.of(BOB)),
                LunConfig.memory(3, 4 * MIB, 512)));
        List<String> lines = node.reconfigure(wanted);
        assertThat(lines).as("removals first, then per LUN in order").containsExactly(
                "lun 1 (lun1) initiators: " + ALICE + " -> " + ALICE + ", " + BOB,
                "lun 2 (lun2) changed its device settings: remove it and add it again (or restart) to apply; ignored",
                "lun 3 (lun3) added: 4 MiB, 512-byte blocks, memory, initiators: any");
        assertThat(bob.device(0).reportLuns()).containsExactly(0, 1, 2, 3);
        assertThat(node.reconfigure(node.config())).containsExactly("configuration unchanged");
    }

    @Test
    void aFileLunGrownLiveTellsItsSessionsAndARefusedShrinkChangesNothing() throws IOException {
        node.addLun(LunConfig.file(5, 4 * MIB, 512));
        settle(alice, 0, 1, 5);
        node.resizeLun(5, 8 * MIB);
        ScsiResult r = alice.device(5).testUnitReady();
        assertThat(r.sense()).as(r.toString()).isNotNull();
        assertThat(r.sense().is(Sense.UNIT_ATTENTION, 0x2A, 0x09)).as("CAPACITY DATA HAS CHANGED: " + r.sense()).isTrue();
        assertThat(alice.device(5).readCapacity16().blocks()).isEqualTo(8 * MIB / 512);
        assertThat(Files.size(dataDir.resolve("lun5.img"))).isEqualTo(8 * MIB);
        assertThatThrownBy(() -> node.resizeLun(5, 2 * MIB)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node.resizeLun(0, 8 * MIB)).as("a memory LUN cannot grow")
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(node.config().luns().stream().filter(l -> l.number() == 0).findFirst().orElseThrow().sizeBytes())
                .isEqualTo(4 * MIB);
    }
}
