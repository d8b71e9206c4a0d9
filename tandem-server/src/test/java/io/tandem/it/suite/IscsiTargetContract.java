package io.tandem.it.suite;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.ChapAlgorithm;
import io.tandem.it.initiator.DataDirection;
import io.tandem.it.initiator.Lun;
import io.tandem.it.initiator.Opcode;
import io.tandem.it.initiator.RawConnection;
import io.tandem.it.initiator.ChapCredentials;
import io.tandem.it.initiator.DiscoveredTarget;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginException;
import io.tandem.it.initiator.LoginNegotiator;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.NegotiatedParameters;
import io.tandem.it.initiator.Pdu;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.initiator.Violation;
import io.tandem.it.support.Patterns;
import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TargetSpec;
import io.tandem.it.target.TargetUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * iSCSI behaviour every target under test must show: login and negotiation, CHAP, discovery, data
 * integrity through every burst mode, pipelining and CmdSN ordering, NOPs, task management, session
 * reinstatement. Subclasses bind it to a target implementation (tgt as the reference, Tandem as the
 * subject) and may declare capability differences.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
public abstract class IscsiTargetContract {
    protected TargetLauncher launcher;
    private static final AtomicInteger INITIATOR_COUNTER = new AtomicInteger();

    /** Starts the target implementation (use JUnit assumptions to skip when it is unavailable). */
    protected abstract TargetLauncher createLauncher() throws Exception;

    /** Whether the target implements this CHAP algorithm; if not, offering only it must be refused. */
    protected boolean supportsChapAlgorithm(ChapAlgorithm algorithm) {
        return true;
    }

    @BeforeAll
    void startLauncher() throws Exception {
        launcher = createLauncher();
    }

    @AfterAll
    void stopLauncher() {
        if (launcher != null) {
            launcher.close();
        }
    }

    protected TargetUnderTest target(TargetSpec spec) throws Exception {
        return launcher.target(spec);
    }

    protected static String uniqueInitiatorName() {
        return "iqn.2025-01.io.tandem.it:initiator-" + INITIATOR_COUNTER.incrementAndGet();
    }

    protected static LoginOptions options(TargetUnderTest target) {
        return LoginOptions.normal(target.targetName()).initiatorName(uniqueInitiatorName());
    }

    /** Logs in and consumes the unit attentions a fresh I_T nexus may report. */
    protected static IscsiSession open(TargetUnderTest target, LoginOptions options) throws Exception {
        IscsiSession session = IscsiSession.login(target.portal(), options);
        clearUnitAttentions(session.device(target.dataLun()));
        return session;
    }

    protected static void clearUnitAttentions(ScsiDevice device) throws Exception {
        for (int i = 0; i < 8; i++) {
            ScsiResult r = device.testUnitReady();
            if (r.isGood()) {
                return;
            }
            assertThat(r.sense()).as("TEST UNIT READY failed other than with a unit attention: %s", r).isNotNull();
            assertThat(r.sense().key()).as("sense of %s", r).isEqualTo(Sense.UNIT_ATTENTION);
        }
        throw new AssertionError("unit attentions never cleared");
    }

    /** Documented behaviours of this target that the contract works around (empty for Tandem). */
    protected Set<Quirk> quirks() {
        return Set.of();
    }

    /** Deviations of this target that are documented and accepted (empty for the target under test). */
    protected Set<Violation.Kind> toleratedDeviations() {
        return Set.of();
    }

    protected void assertClean(IscsiSession session) {
        assertThat(session.protocolViolations()).as("protocol violations seen by the initiator")
                .filteredOn(v -> !toleratedDeviations().contains(v.kind())).isEmpty();
        assertThat(session.rejects()).as("Reject PDUs").isEmpty();
    }

    /** Writes a pattern with WRITE(16), reads it back with READ(16), compares. */
    protected static void writeReadVerify(ScsiDevice device, long lba, int blocks, int tag) throws Exception {
        int bs = device.blockSize();
        byte[] data = Patterns.blocks(lba, blocks, bs, tag);
        device.write16(lba, data);
        byte[] back = device.read16(lba, blocks);
        assertThat(Patterns.firstMismatch(data, back, lba, bs)).as("read-back mismatch").isNull();
    }

    // ------------------------------------------------------------------ login, logout, basic SCSI

    @Test
    void loginThenLogoutSucceeds() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        IscsiSession session = IscsiSession.login(target.portal(), options(target));
        assertThat(session.tsih()).as("TSIH of a new session").isNotZero();
        assertThat(session.logout()).as("Logout Response code").isZero();
        assertThat(session.closed()).succeedsWithin(Duration.ofSeconds(5));
        assertClean(session);
    }

    @Test
    void loginDirectlyInOperationalStageSucceeds() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        IscsiSession session = IscsiSession.login(target.portal(), options(target).skipSecurityStage(true));
        assertThat(session.logout()).isZero();
    }

    @Test
    void loginToUnknownTargetNameIsRefusedWithNotFound() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        LoginOptions opts = options(target).targetName(target.targetName() + "-does-not-exist");
        assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts))
                .isInstanceOfSatisfying(LoginException.class, e -> {
                    assertThat(e.statusClass()).isEqualTo(0x02);
                    assertThat(e.statusDetail()).as("Status-Detail 03h = Not found").isEqualTo(0x03);
                });
    }

    @Test
    void inquiryReadCapacityAndReportLunsDescribeTheDisk() throws Exception {
        TargetSpec spec = TargetSpec.plain();
        TargetUnderTest target = target(spec);
        try (IscsiSession session = open(target, options(target))) {
            ScsiDevice dev = session.device(target.dataLun());
            ScsiDevice.Inquiry inq = dev.inquiry();
            assertThat(inq.peripheralQualifier()).isZero();
            assertThat(inq.deviceType()).as("direct-access block device").isZero();
            assertThat(inq.vendor()).isNotBlank();
            ScsiDevice.Capacity cap = dev.readCapacity16();
            assertThat(cap.blockSize()).isEqualTo(spec.blockSize());
            assertThat(cap.blocks()).isEqualTo(spec.lunBytes() / spec.blockSize());
            assertThat(dev.reportLuns()).contains(target.dataLun());
            assertThat(dev.requestSense(false).key()).as("nothing pending").isEqualTo(Sense.NO_SENSE);
            assertClean(session);
        }
    }

    @Test
    void commandToMissingLunGetsLogicalUnitNotSupported() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            int missing = 200;
            ScsiResult tur = session.execute(ScsiRequest.none(missing, Cdbs.testUnitReady()));
            assertThat(tur.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
            assertThat(tur.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("%s", tur.sense()).isTrue();

            ScsiResult read = session.execute(ScsiRequest.read(missing,
                    Cdbs.read10(0, 1), 512));
            assertThat(read.status()).isEqualTo(ScsiResult.CHECK_CONDITION);
            assertThat(read.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("%s", read.sense()).isTrue();

            // INQUIRY must still answer, with peripheral qualifier 011b (SPC-4 6.6.2)
            ScsiResult inq = session.execute(ScsiRequest.read(missing,
                    Cdbs.inquiry(false, 0, 96), 96));
            assertThat(inq.isGood()).as("%s", inq).isTrue();
            assertThat((inq.data()[0] & 0xe0) >> 5).isEqualTo(3);
            assertClean(session);
        }
    }

    // ------------------------------------------------------------------ negotiation

    static Stream<Arguments> digestCombinations() {
        return Stream.of(
                Arguments.of("None", "None"),
                Arguments.of("CRC32C", "None"),
                Arguments.of("None", "CRC32C"),
                Arguments.of("CRC32C", "CRC32C"));
    }

    @ParameterizedTest(name = "HeaderDigest={0} DataDigest={1}")
    @MethodSource("digestCombinations")
    void digestsAreNegotiatedAndProtectEveryPduBothWays(String header, String data) throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        LoginOptions opts = options(target).headerDigest(header).dataDigest(data)
                .maxRecvDataSegmentLength(8192).firstBurstLength(16384).maxBurstLength(65536);
        try (IscsiSession session = open(target, opts)) {
            NegotiatedParameters p = session.negotiated();
            assertThat(p.headerDigest()).isEqualTo(header.equals("CRC32C"));
            assertThat(p.dataDigest()).isEqualTo(data.equals("CRC32C"));
            // multi-PDU transfers in both directions, and a ping with data, all digest-checked
            writeReadVerify(session.device(target.dataLun()), 4096, 512, 11);
            session.ping("digest-ping".getBytes());
            assertClean(session);
        }
    }

    @Test
    void digestListOfferIsAnsweredWithOneOfItsValues() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target).headerDigest("CRC32C,None").dataDigest("None,CRC32C"))) {
            writeReadVerify(session.device(target.dataLun()), 100, 64, 3);
            assertClean(session);
        }
    }

    @Test
    void operationalValuesAnsweredWithinTheOffer() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        LoginOptions opts = options(target).maxBurstLength(65536).firstBurstLength(8192).maxRecvDataSegmentLength(4096)
                .maxOutstandingR2T(4).initialR2T(false).immediateData(true);
        try (IscsiSession session = open(target, opts)) {
            NegotiatedParameters p = session.negotiated();
            // LoginNegotiator already rejects answers outside the offer; check the declared values arrived
            assertThat(p.maxBurstLength()).isBetween(512, 65536);
            assertThat(p.firstBurstLength()).isLessThanOrEqualTo(p.maxBurstLength());
            assertThat(p.maxOutstandingR2T()).isBetween(1, 4);
            writeReadVerify(session.device(target.dataLun()), 0, 600, 5);
            assertClean(session);
        }
    }

    // ------------------------------------------------------------------ CHAP

    private static int chapCounter;

    private TargetSpec chapSpec(boolean mutual) {
        int n = ++chapCounter;
        return TargetSpec.plain().withChap(new TargetSpec.ChapSecrets(
                "it-user-" + n, "initiator-secret-" + n,
                mutual ? "it-target-" + n : null, mutual ? "target-secret-" + n : null));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ChapAlgorithm.class, names = {"MD5", "SHA256"})
    void oneWayChapLogsInWithTheRightSecret(ChapAlgorithm algorithm) throws Exception {
        TargetSpec spec = chapSpec(false);
        TargetUnderTest target = target(spec);
        LoginOptions opts = options(target).chap(ChapCredentials.oneWay(spec.chap().initiatorUser(),
                spec.chap().initiatorSecret(), algorithm));
        if (!supportsChapAlgorithm(algorithm)) {
            assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts)).isInstanceOf(Exception.class);
            return;
        }
        try (IscsiSession session = open(target, opts)) {
            writeReadVerify(session.device(target.dataLun()), 0, 8, 1);
            assertThat(session.logout()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ChapAlgorithm.class, names = {"MD5", "SHA256"})
    void mutualChapLogsInAndTheTargetProvesItsSecret(ChapAlgorithm algorithm) throws Exception {
        TargetSpec spec = chapSpec(true);
        TargetUnderTest target = target(spec);
        TargetSpec.ChapSecrets s = spec.chap();
        LoginOptions opts = options(target).chap(ChapCredentials.mutual(s.initiatorUser(), s.initiatorSecret(),
                s.targetUser(), s.targetSecret(), algorithm));
        if (!supportsChapAlgorithm(algorithm)) {
            assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts)).isInstanceOf(Exception.class);
            return;
        }
        try (IscsiSession session = open(target, opts)) {
            writeReadVerify(session.device(target.dataLun()), 0, 8, 2);
            assertThat(session.logout()).isZero();
        }
    }

    @Test
    void chapAlgorithmListFallsBackToOneTheTargetSupports() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(quirks().contains(Quirk.CHAP_A_7_IS_NOT_SHA256),
                "target picks CHAP_A=7 but does not compute SHA-256");
        TargetSpec spec = chapSpec(false);
        TargetUnderTest target = target(spec);
        LoginOptions opts = options(target).chap(ChapCredentials.oneWay(spec.chap().initiatorUser(),
                spec.chap().initiatorSecret(), ChapAlgorithm.SHA256, ChapAlgorithm.MD5));
        try (IscsiSession session = open(target, opts)) {
            assertThat(session.logout()).isZero();
        }
    }

    @Test
    void chapWithWrongSecretIsRefusedAsAuthenticationFailure() throws Exception {
        TargetSpec spec = chapSpec(false);
        TargetUnderTest target = target(spec);
        LoginOptions opts = options(target).chap(ChapCredentials.oneWay(spec.chap().initiatorUser(),
                "not-the-secret-at-all", ChapAlgorithm.MD5));
        assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts))
                .isInstanceOfSatisfying(LoginException.class, e -> assertThat(e.isAuthenticationFailure())
                        .as("Status 0201h Authentication failure: %s", e.getMessage()).isTrue());
    }

    @Test
    void chapWithUnknownUserIsRefused() throws Exception {
        TargetSpec spec = chapSpec(false);
        TargetUnderTest target = target(spec);
        LoginOptions opts = options(target).chap(ChapCredentials.oneWay("nobody-" + spec.chap().initiatorUser(),
                spec.chap().initiatorSecret(), ChapAlgorithm.MD5));
        assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts))
                .isInstanceOfSatisfying(LoginException.class, e -> assertThat(e.statusClass()).isEqualTo(0x02));
    }

    @Test
    void mutualChapDetectsATargetWithTheWrongSecret() throws Exception {
        TargetSpec spec = chapSpec(true);
        TargetUnderTest target = target(spec);
        TargetSpec.ChapSecrets s = spec.chap();
        LoginOptions opts = options(target).chap(ChapCredentials.mutual(s.initiatorUser(), s.initiatorSecret(),
                s.targetUser(), "what-the-initiator-believes", ChapAlgorithm.MD5));
        assertThatThrownBy(() -> IscsiSession.login(target.portal(), opts))
                .isInstanceOf(LoginNegotiator.MutualAuthenticationException.class);
    }

    @Test
    void targetRequiringChapRefusesAuthMethodNone() throws Exception {
        TargetUnderTest target = target(chapSpec(false));
        assertThatThrownBy(() -> IscsiSession.login(target.portal(), options(target)))
                .isInstanceOfSatisfying(LoginException.class, e -> assertThat(e.isAuthenticationFailure())
                        .as("Status 0201h Authentication failure: %s", e.getMessage()).isTrue());
    }

    // ------------------------------------------------------------------ discovery

    @Test
    void discoverySendTargetsListsTheTargetAndItsPortal() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        List<DiscoveredTarget> found = IscsiSession.discover(target.portal(),
                LoginOptions.discovery().initiatorName(uniqueInitiatorName()));
        assertThat(found).extracting(DiscoveredTarget::name).contains(target.targetName());
        DiscoveredTarget ours = found.stream().filter(t -> t.name().equals(target.targetName())).findFirst().orElseThrow();
        assertThat(ours.addresses()).as("TargetAddress values")
                .anyMatch(a -> a.contains(":" + target.portal().getPort() + ","));
    }

    // ------------------------------------------------------------------ data integrity and bursts

    static Stream<Arguments> burstModes() {
        List<Arguments> all = new ArrayList<>();
        for (int blockSize : new int[] {512, 4096}) {
            for (boolean initialR2T : new boolean[] {true, false}) {
                for (boolean immediateData : new boolean[] {true, false}) {
                    all.add(Arguments.of(blockSize, initialR2T, immediateData));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "block={0} InitialR2T={1} ImmediateData={2}")
    @MethodSource("burstModes")
    void largeTransfersSpanSeveralBurstsAndVerify(int blockSize, boolean initialR2T, boolean immediateData)
            throws Exception {
        TargetUnderTest target = target(TargetSpec.blockSize(blockSize));
        int maxBurst = 65536;
        LoginOptions opts = options(target).initialR2T(initialR2T).immediateData(immediateData)
                .maxBurstLength(maxBurst).firstBurstLength(16384).maxRecvDataSegmentLength(8192);
        try (IscsiSession session = open(target, opts)) {
            NegotiatedParameters p = session.negotiated();
            assertThat(p.initialR2T()).as("InitialR2T (OR: only Yes may be forced)").isEqualTo(initialR2T || p.initialR2T());
            ScsiDevice dev = session.device(target.dataLun());
            int bytes = 512 * 1024 + 3 * blockSize; // several MaxBurstLength sequences plus a ragged tail
            int blocks = bytes / blockSize;
            long lba = 1000;
            byte[] data = Patterns.blocks(lba, blocks, blockSize, 77);
            ScsiResult write = session.execute(dev.write16Request(lba, data));
            assertThat(write.isGood()).as("%s", write).isTrue();
            int unsolicited = !p.initialR2T() || p.immediateData()
                    ? Math.min(p.firstBurstLength(), bytes) : 0;
            if (p.initialR2T()) {
                unsolicited = p.immediateData() ? Math.min(unsolicited, p.targetMaxRecvDataSegmentLength()) : 0;
            }
            int minR2ts = (bytes - unsolicited + p.maxBurstLength() - 1) / p.maxBurstLength();
            assertThat(write.r2ts()).as("R2Ts for %d solicited bytes", bytes - unsolicited).isGreaterThanOrEqualTo(minR2ts);

            ScsiResult read = session.execute(dev.read16Request(lba, blocks));
            assertThat(read.isGood()).as("%s", read).isTrue();
            assertThat(read.dataInPdus()).isGreaterThanOrEqualTo(bytes / p.initiatorMaxRecvDataSegmentLength());
            assertThat(Patterns.firstMismatch(data, read.data(), lba, blockSize)).isNull();
            // READ(10)/WRITE(10) take the same path with other CDB decoding
            byte[] small = Patterns.blocks(lba + blocks, 16, blockSize, 78);
            dev.write10(lba + blocks, small);
            assertThat(dev.read10(lba + blocks, 16)).isEqualTo(small);
            assertClean(session);
        }
    }

    @Test
    void severalOutstandingR2TsAreAnsweredInOrder() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        LoginOptions opts = options(target).maxOutstandingR2T(8).maxBurstLength(16384).firstBurstLength(4096)
                .maxRecvDataSegmentLength(4096).immediateData(false).initialR2T(true);
        try (IscsiSession session = open(target, opts)) {
            writeReadVerify(session.device(target.dataLun()), 5000, 1024, 9);
            assertClean(session);
        }
    }

    @Test
    void manyPipelinedCommandsCompleteAndVerify() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target).maxBurstLength(65536).firstBurstLength(8192))) {
            ScsiDevice dev = session.device(target.dataLun());
            int n = 64;
            int blocks = 32;
            List<ScsiRequest> writes = new ArrayList<>();
            List<byte[]> payloads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] data = Patterns.blocks(20000L + i * blocks, blocks, 512, 100 + i);
                payloads.add(data);
                writes.add(dev.write16Request(20000L + i * blocks, data));
            }
            for (CompletableFuture<ScsiResult> f : session.submitAll(writes, null)) {
                assertThat(session.await(f).isGood()).isTrue();
            }
            List<ScsiRequest> reads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                reads.add(dev.read16Request(20000L + i * blocks, blocks));
            }
            List<CompletableFuture<ScsiResult>> results = session.submitAll(reads, null);
            for (int i = 0; i < n; i++) {
                ScsiResult r = session.await(results.get(i));
                assertThat(Patterns.firstMismatch(payloads.get(i), r.requireGood(), 20000L + i * blocks, 512))
                        .as("command %d", i).isNull();
            }
            assertClean(session);
        }
    }

    @Test
    void moreCommandsThanTheCmdSnWindowAllComplete() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            int window = session.loginResult().maxCmdSn() - session.loginResult().expCmdSn() + 1;
            int n = Math.max(300, 2 * window + 7);
            List<ScsiRequest> turs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                turs.add(ScsiRequest.none(target.dataLun(), Cdbs.testUnitReady()));
            }
            List<CompletableFuture<ScsiResult>> results = session.submitAll(turs, null);
            for (CompletableFuture<ScsiResult> r : results) {
                assertThat(session.await(r).isGood()).isTrue();
            }
            assertThat(session.await(results.getLast()).cmdSn() - session.await(results.getFirst()).cmdSn())
                    .isEqualTo(n - 1);
            assertClean(session);
        }
    }

    @Test
    void commandsFromSeveralThreadsShareOneSession() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            ScsiDevice dev = session.device(target.dataLun());
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int w = 0; w < 6; w++) {
                int worker = w;
                workers.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < 10; i++) {
                            writeReadVerify(dev, 40000L + worker * 1000 + i * 64, 64, worker * 100 + i);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(50, java.util.concurrent.TimeUnit.SECONDS);
            assertClean(session);
        }
    }

    @Test
    void commandArrivingBeforeItsPredecessorInCmdSnOrderWaitsForIt() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            ScsiDevice dev = session.device(target.dataLun());
            long lba = 60000;
            byte[] old = Patterns.blocks(lba, 8, 512, 1);
            dev.write16(lba, old);
            byte[] fresh = Patterns.blocks(lba, 8, 512, 2);
            // CmdSN n: ORDERED write; CmdSN n+1: ORDERED read of the same blocks, put on the wire first.
            // The target must hold n+1 until n arrives, then run them in CmdSN order.
            List<CompletableFuture<ScsiResult>> f = session.submitAll(List.of(
                    dev.write16Request(lba, fresh).withTaskAttribute(ScsiRequest.ORDERED),
                    dev.read16Request(lba, 8).withTaskAttribute(ScsiRequest.ORDERED)), new int[] {1, 0});
            assertThat(session.await(f.get(0)).isGood()).isTrue();
            ScsiResult read = session.await(f.get(1));
            assertThat(Patterns.firstMismatch(fresh, read.requireGood(), lba, 512)).isNull();
            assertThat(read.cmdSn()).isEqualTo(session.await(f.get(0)).cmdSn() + 1);

            // a longer reversed burst
            List<ScsiRequest> turs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                turs.add(ScsiRequest.none(target.dataLun(), Cdbs.testUnitReady()));
            }
            for (CompletableFuture<ScsiResult> r : session.submitAll(turs, new int[] {7, 6, 5, 4, 3, 2, 1, 0})) {
                assertThat(session.await(r).isGood()).isTrue();
            }
            assertClean(session);
        }
    }

    // ------------------------------------------------------------------ NOP, TMF

    @Test
    void nopOutPingIsEchoed() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            Pdu empty = session.ping(new byte[0]);
            assertThat(empty.ttt()).isEqualTo(Pdu.RESERVED_TAG);
            session.ping("0123456789abcdef-odd-length".getBytes());
            assertClean(session);
        }
    }

    @Test
    void targetNopInPingsAreAnsweredAndKeepTheSessionAlive() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain().withNopIn(Duration.ofSeconds(1)));
        try (IscsiSession session = open(target, options(target))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (session.nopInsAnswered() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(session.nopInsAnswered()).as("target NOP-Ins answered").isGreaterThanOrEqualTo(2);
            assertThat(session.isOpen()).isTrue();
            writeReadVerify(session.device(target.dataLun()), 300, 8, 4);
            assertClean(session);
        }
    }

    @Test
    void nopInAnswersWithoutDataAreFramedCorrectlyUnderDigests() throws Exception {
        // an empty data segment carries no data digest (RFC 7143 11.1); a target that expects one loses framing
        TargetUnderTest target = target(TargetSpec.plain().withNopIn(Duration.ofSeconds(1)));
        try (IscsiSession session = open(target, options(target).headerDigest("CRC32C").dataDigest("CRC32C"))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (session.nopInsAnswered() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(session.nopInsAnswered()).isGreaterThanOrEqualTo(2);
            session.ping(new byte[0]);
            writeReadVerify(session.device(target.dataLun()), 310, 16, 8);
            assertClean(session);
        }
    }

    @Test
    void abortTaskOfACompletedCommandAndLunResetAnswerFunctionComplete() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            ScsiDevice dev = session.device(target.dataLun());
            // referenced task already finished: RFC 7143 11.6.1 wants "Function complete"
            int response = session.taskManagement(1, target.dataLun(), 0x7777, session.loginResult().nextCmdSn());
            assertThat(response).as("ABORT TASK of an unknown task").isIn(0, 1);
            assertThat(session.taskManagement(5, target.dataLun(), Pdu.RESERVED_TAG, 0)).as("LUN RESET").isZero();
            clearUnitAttentions(dev);
            writeReadVerify(dev, 400, 8, 6);
            assertClean(session);
        }
    }

    @Test
    void abortTaskRemovesACommandHeldBehindACmdSnGap() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (RawConnection raw = RawConnection.login(target.portal(), options(target))) {
            Duration timeout = Duration.ofSeconds(10);
            // CmdSN gap is skipped for now; CmdSN gap+1 arrives first and the target must hold it
            int gap = raw.cmdSn();
            Pdu held = Pdu.create(Opcode.SCSI_COMMAND).flags(0x80 | 0x40 | 1).lun(Lun.encode(target.dataLun()))
                    .itt(raw.newItt()).putInt(Pdu.OFF_WORD20, 512).cmdSn(gap + 1).expStatSn(raw.expStatSn())
                    .putBytes(Pdu.OFF_CDB, java.util.Arrays.copyOf(Cdbs.read10(0, 1), 16));
            raw.send(held);
            // immediate ABORT TASK carrying the next unused CmdSN (gap+2); RefCmdSN = gap+1
            int tmfItt = raw.newItt();
            Pdu abort = Pdu.create(Opcode.TASK_MGMT_REQUEST).immediate(true).flags(0x80 | 1)
                    .lun(Lun.encode(target.dataLun())).itt(tmfItt).putInt(Pdu.OFF_WORD20, held.itt())
                    .cmdSn(gap + 2).expStatSn(raw.expStatSn()).putInt(Pdu.OFF_WORD32, gap + 1);
            raw.send(abort);
            Pdu answer = raw.receive(timeout);
            assertThat(answer.opcode()).as("%s", answer).isEqualTo(Opcode.TASK_MGMT_RESPONSE);
            assertThat(answer.itt()).isEqualTo(tmfItt);
            boolean quirk = quirks().contains(Quirk.ABORT_TASK_IGNORES_COMMANDS_HELD_FOR_CMDSN_ORDER);
            // RFC 7143 11.6.1: the task exists (or RefCmdSN is in the window below the TMF's CmdSN)
            assertThat(answer.byte2()).as("TMF response: function complete").isEqualTo(quirk ? 1 : 0);

            // fill the gap; the aborted command must never answer
            Pdu filler = Pdu.create(Opcode.SCSI_COMMAND).flags(0x80 | 1).lun(Lun.encode(target.dataLun()))
                    .itt(raw.newItt()).cmdSn(gap).expStatSn(raw.expStatSn()).putBytes(Pdu.OFF_CDB, new byte[16]);
            raw.send(filler);
            int pingItt = raw.newItt();
            raw.send(Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(pingItt).ttt(Pdu.RESERVED_TAG).cmdSn(gap + 2)
                    .expStatSn(raw.expStatSn()));
            boolean fillerDone = false;
            boolean pingDone = false;
            while (!fillerDone || !pingDone) {
                Pdu pdu = raw.receive(timeout);
                if (quirk && pdu.itt() == held.itt()) {
                    continue; // not aborted, so it runs once the gap is filled
                }
                assertThat(pdu.itt()).as("no answer for the aborted task: %s", pdu).isNotEqualTo(held.itt());
                if (pdu.itt() == filler.itt()) {
                    assertThat(pdu.opcode()).isEqualTo(Opcode.SCSI_RESPONSE);
                    fillerDone = true;
                } else if (pdu.itt() == pingItt) {
                    assertThat(pdu.opcode()).isEqualTo(Opcode.NOP_IN);
                    pingDone = true;
                }
            }
            RawConnection.Outcome rest = raw.next(Duration.ofMillis(500));
            while (quirk && rest instanceof RawConnection.Received(Pdu late) && late.itt() == held.itt()) {
                rest = raw.next(Duration.ofMillis(500));
            }
            assertThat(rest).as("nothing more, in particular not the aborted read")
                    .isInstanceOf(RawConnection.Silent.class);
        }
    }

    @Test
    void shortAndLongAllocationsReportResiduals() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession session = open(target, options(target))) {
            // INQUIRY returns less than a generous allocation length: underflow
            ScsiResult inq = session.execute(ScsiRequest.read(target.dataLun(), Cdbs.inquiry(false, 0, 255), 255));
            assertThat(inq.isGood()).isTrue();
            assertThat(inq.data().length).isLessThan(255);
            assertThat(inq.underflow()).as("U bit").isTrue();
            assertThat(inq.residualCount()).isEqualTo(255 - inq.data().length);

            // READ of 8 blocks with room for 4: overflow, only the expected length transferred
            ScsiResult read = session.execute(ScsiRequest.read(target.dataLun(), Cdbs.read10(0, 8), 4 * 512));
            assertThat(read.overflow()).as("O bit, %s", read).isTrue();
            assertThat(read.residualCount()).isEqualTo(4 * 512);
            assertThat(read.data()).hasSize(4 * 512);
            assertClean(session);
        }
    }

    // ------------------------------------------------------------------ sessions

    @Test
    void loginWithSameIsidReinstatesTheSessionAndDropsTheOldOne() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        LoginOptions opts = options(target);
        IscsiSession first = open(target, opts);
        try (IscsiSession second = open(target, opts.copy())) {
            assertThat(first.closed()).as("old session dropped on reinstatement").succeedsWithin(Duration.ofSeconds(10));
            writeReadVerify(second.device(target.dataLun()), 500, 8, 7);
            assertClean(second);
        } finally {
            first.close();
        }
    }

    @Test
    void twoInitiatorsWorkSideBySide() throws Exception {
        TargetUnderTest target = target(TargetSpec.plain());
        try (IscsiSession a = open(target, options(target)); IscsiSession b = open(target, options(target))) {
            ScsiDevice da = a.device(target.dataLun());
            ScsiDevice db = b.device(target.dataLun());
            for (int i = 0; i < 10; i++) {
                writeReadVerify(da, 70000 + i * 16, 16, 1000 + i);
                writeReadVerify(db, 80000 + i * 16, 16, 2000 + i);
            }
            // each sees the other's writes
            byte[] fromA = Patterns.blocks(90000, 4, 512, 3000);
            da.write16(90000, fromA);
            assertThat(db.read16(90000, 4)).isEqualTo(fromA);
            assertClean(a);
            assertClean(b);
        }
    }
}
