package io.tandem.it.suite;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.DataDirection;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.Opcode;
import io.tandem.it.initiator.Pdu;
import io.tandem.it.initiator.RawConnection;
import io.tandem.it.initiator.RawConnection.Outcome;
import io.tandem.it.initiator.RawConnection.Received;
import io.tandem.it.initiator.RawConnection.Silent;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.initiator.TextParameters;
import io.tandem.it.initiator.Violation;
import io.tandem.it.support.BackgroundIo;
import io.tandem.it.support.Patterns;
import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TargetSpec;
import io.tandem.it.target.TargetUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input on one connection must cost at most that connection: while a second session keeps
 * writing and verifying data in the background, each test abuses a fresh connection and then checks
 * that the target answered as RFC 7143 allows (Reject or drop — never silence, never acceptance of
 * a malformed PDU), that the background session never saw an error or a wrong byte, and that new
 * logins still work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
public abstract class IscsiBadInputContract {
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger INITIATOR_COUNTER = new AtomicInteger();
    private static final long BACKGROUND_LBA = 100_000;

    protected TargetLauncher launcher;
    protected TargetUnderTest target;
    private BackgroundIo background;

    protected abstract TargetLauncher createLauncher() throws Exception;

    /** Deviations of this target that are documented and accepted (empty for the target under test). */
    protected Set<Violation.Kind> toleratedDeviations() {
        return Set.of();
    }

    /** Documented behaviours of this target that the contract works around (empty for Tandem). */
    protected Set<Quirk> quirks() {
        return Set.of();
    }

    @BeforeAll
    void startTarget() throws Exception {
        launcher = createLauncher();
        target = launcher.target(TargetSpec.plain());
    }

    @AfterAll
    void stopTarget() {
        if (launcher != null) {
            launcher.close();
        }
    }

    @BeforeEach
    void startBackgroundIo() throws Exception {
        IscsiSession session = IscsiSession.login(target.portal(), options());
        IscsiTargetContract.clearUnitAttentions(session.device(target.dataLun()));
        background = new BackgroundIo(session, target.dataLun(), BACKGROUND_LBA, 1024);
        background.awaitProgress(3, ANSWER_TIMEOUT);
    }

    @AfterEach
    void checkBackgroundIoUnharmed() throws Exception {
        try {
            background.awaitProgress(3, ANSWER_TIMEOUT);
            int roundTrips = background.stop();
            assertThat(roundTrips).as("verified background round trips").isGreaterThanOrEqualTo(6);
            assertThat(background.session().isOpen()).as("background session still connected").isTrue();
            assertThat(background.session().protocolViolations())
                    .filteredOn(v -> !toleratedDeviations().contains(v.kind())).isEmpty();
            assertThat(background.session().rejects()).isEmpty();
            // the target still takes new logins and serves them
            try (IscsiSession fresh = IscsiSession.login(target.portal(), options())) {
                IscsiTargetContract.clearUnitAttentions(fresh.device(target.dataLun()));
                long lba = BACKGROUND_LBA + 4096;
                byte[] data = Patterns.blocks(lba, 4, 512, 99);
                fresh.device(target.dataLun()).write16(lba, data);
                assertThat(fresh.device(target.dataLun()).read16(lba, 4)).isEqualTo(data);
            }
        } finally {
            background.close();
        }
    }

    protected LoginOptions options() {
        return LoginOptions.normal(target.targetName())
                .initiatorName("iqn.2025-01.io.tandem.it:bad-input-" + INITIATOR_COUNTER.incrementAndGet());
    }

    private static void assertRejectOrClose(Outcome outcome, Set<Integer> reasons, Pdu offending) {
        assertThat(outcome).as("target must answer hostile input, not ignore it").isNotInstanceOf(Silent.class);
        if (outcome instanceof Received(Pdu pdu)) {
            assertThat(pdu.opcode()).as("answer %s", pdu).isEqualTo(Opcode.REJECT);
            assertThat(pdu.byte2()).as("Reject reason").isIn(reasons);
            assertThat(pdu.data().length).as("Reject carries the rejected header").isGreaterThanOrEqualTo(Pdu.BHS_LENGTH);
            if (offending != null) {
                Pdu echoed = Pdu.wrap(Arrays.copyOf(pdu.data(), Pdu.BHS_LENGTH), new byte[0], new byte[0]);
                assertThat(echoed.opcode()).isEqualTo(offending.opcode());
                assertThat(echoed.itt()).isEqualTo(offending.itt());
            }
        }
    }

    /** After a Reject the connection must still work: a NOP-Out ping is answered. */
    private static void assertStillServes(RawConnection raw) throws Exception {
        int itt = raw.newItt();
        raw.send(raw.sequence(Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(itt).ttt(Pdu.RESERVED_TAG)));
        Pdu answer = raw.receive(ANSWER_TIMEOUT);
        assertThat(answer.opcode()).as("%s", answer).isEqualTo(Opcode.NOP_IN);
        assertThat(answer.itt()).isEqualTo(itt);
    }

    @Test
    void unknownOpcodeIsRejectedOrTheConnectionDropped() throws Exception {
        try (RawConnection raw = RawConnection.login(target.portal(), options())) {
            // 0x0b is a reserved initiator opcode (RFC 7143 11.2.1.2)
            Pdu bogus = raw.sequenceImmediate(Pdu.create(0x0b).setFinal(true).itt(raw.newItt()).ttt(Pdu.RESERVED_TAG));
            raw.send(bogus);
            Outcome outcome = raw.next(ANSWER_TIMEOUT);
            // 05h "Command not supported" fits an opcode the target does not implement; 04h is also seen
            assertRejectOrClose(outcome, Set.of(0x04, 0x05), bogus);
            if (outcome instanceof Received) {
                assertStillServes(raw);
            }
        }
    }

    @Test
    void dataSegmentAboveMaxRecvDataSegmentLengthIsRejectedOrDropped() throws Exception {
        LoginOptions opts = options().immediateData(true).firstBurstLength(262144).maxBurstLength(262144);
        try (RawConnection raw = RawConnection.login(target.portal(), opts)) {
            int limit = raw.loginResult().negotiated().targetMaxRecvDataSegmentLength();
            int firstBurst = raw.loginResult().negotiated().firstBurstLength();
            int length = Math.min(limit + 4096, firstBurst);
            if (length <= limit) {
                return; // negotiation left no room to exceed the limit with legal unsolicited data
            }
            length -= length % 512;
            byte[] data = Patterns.blocks(BACKGROUND_LBA + 2048, length / 512, 512, 5);
            Pdu write = raw.scsiCommand(target.dataLun(), Cdbs.write16(BACKGROUND_LBA + 2048, length / 512),
                    DataDirection.WRITE, length).data(data);
            raw.send(write);
            Outcome outcome = raw.next(ANSWER_TIMEOUT);
            if (quirks().contains(Quirk.ANSWERS_OVERSIZED_DATA_SEGMENT_WITH_SCSI_STATUS)
                    && outcome instanceof Received(Pdu pdu) && pdu.opcode() == Opcode.SCSI_RESPONSE) {
                assertThat(pdu.byte3()).as("status for the oversized PDU").isNotEqualTo(ScsiResult.GOOD);
                return;
            }
            // 04h Protocol Error or 09h Invalid PDU field
            assertRejectOrClose(outcome, Set.of(0x04, 0x09), write);
        }
    }

    @Test
    void bytesBeyondTheDeclaredDataSegmentLoseFramingAndDropTheConnection() throws Exception {
        try (RawConnection raw = RawConnection.login(target.portal(), options())) {
            Pdu ping = raw.sequence(Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(raw.newItt()).ttt(Pdu.RESERVED_TAG));
            byte[] framed = raw.channel().encode(ping.fillLengths());
            byte[] garbage = new byte[96];
            Arrays.fill(garbage, (byte) 0xff); // read as a BHS: target-only opcode 3Fh, 16 MiB data segment
            byte[] wire = Arrays.copyOf(framed, framed.length + garbage.length);
            System.arraycopy(garbage, 0, wire, framed.length, garbage.length);
            raw.sendBytes(wire);
            assertThat(raw.awaitClose(ANSWER_TIMEOUT)).as("connection dropped after framing was lost").isTrue();
        }
    }

    @Test
    void httpRequestInsteadOfLoginIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(quirks().contains(Quirk.WAITS_FOR_OVERSIZED_LOGIN_DATA),
                "target waits for the megabytes the garbage header declares");
        try (RawConnection raw = RawConnection.connect(target.portal())) {
            raw.sendBytes(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: tandem-it\r\nAccept: */*\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // read as a BHS this declares a ~3 MB data segment, far above the login-phase limit of 8192
            assertLoginRefusedOrClosed(raw.next(ANSWER_TIMEOUT));
            assertThat(raw.awaitClose(ANSWER_TIMEOUT)).isTrue();
        }
    }

    @Test
    void loginWithBinaryGarbageAsTextIsRefused() throws Exception {
        try (RawConnection raw = RawConnection.connect(target.portal())) {
            byte[] junk = new byte[200];
            new java.util.Random(7).nextBytes(junk);
            Pdu login = Pdu.create(Opcode.LOGIN_REQUEST).immediate(true).flags(0x80 | 0x04 | 0x03)
                    .putBytes(Pdu.OFF_ISID, LoginOptions.randomIsid()).itt(1).cmdSn(1).data(junk);
            raw.send(login);
            assertLoginRefusedOrClosed(raw.next(ANSWER_TIMEOUT));
        }
    }

    @Test
    void fullFeaturePduBeforeLoginIsRefused() throws Exception {
        try (RawConnection raw = RawConnection.connect(target.portal())) {
            Pdu cmd = Pdu.create(Opcode.SCSI_COMMAND).flags(0x80 | 0x40 | 1).itt(1).cmdSn(1)
                    .putInt(Pdu.OFF_WORD20, 512).putBytes(Pdu.OFF_CDB, Arrays.copyOf(Cdbs.read10(0, 1), 16));
            raw.send(cmd);
            assertLoginRefusedOrClosed(raw.next(ANSWER_TIMEOUT));
        }
    }

    private static void assertLoginRefusedOrClosed(Outcome outcome) {
        assertThat(outcome).as("target must answer, not wait").isNotInstanceOf(Silent.class);
        if (outcome instanceof Received(Pdu pdu)) {
            assertThat(pdu.opcode()).as("%s", pdu).isEqualTo(Opcode.LOGIN_RESPONSE);
            int statusClass = pdu.bhs()[Pdu.OFF_WORD36] & 0xff;
            assertThat(statusClass).as("Status-Class of the refusal").isIn(0x02, 0x03);
        }
    }

    @Test
    void corruptHeaderDigestIsNeverActedUpon() throws Exception {
        try (RawConnection raw = RawConnection.login(target.portal(), options().headerDigest("CRC32C"))) {
            assertThat(raw.channel().headerDigest()).isTrue();
            Pdu ping = raw.sequence(Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(raw.newItt()).ttt(Pdu.RESERVED_TAG));
            byte[] wire = raw.channel().encode(ping.fillLengths());
            wire[Pdu.BHS_LENGTH] ^= 0x5a; // flip bits in the header digest
            raw.sendBytes(wire);
            Outcome outcome = raw.next(ANSWER_TIMEOUT);
            // RFC 7143 7.8: discard or close; a NOP-In would mean the corrupt header was trusted
            if (outcome instanceof Received(Pdu pdu)) {
                assertThat(pdu.opcode()).as("answer to a PDU with a bad header digest: %s", pdu)
                        .isNotEqualTo(Opcode.NOP_IN);
            }
        }
    }

    @Test
    void corruptDataDigestIsRejectedOrDropped() throws Exception {
        try (RawConnection raw = RawConnection.login(target.portal(), options().dataDigest("CRC32C"))) {
            assertThat(raw.channel().dataDigest()).isTrue();
            Pdu ping = raw.sequence(Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(raw.newItt()).ttt(Pdu.RESERVED_TAG)
                    .data("ping with a damaged digest".getBytes(StandardCharsets.US_ASCII)));
            byte[] wire = raw.channel().encode(ping.fillLengths());
            wire[wire.length - 1] ^= 0x5a;
            raw.sendBytes(wire);
            Outcome outcome = raw.next(ANSWER_TIMEOUT);
            assertRejectOrClose(outcome, Set.of(0x02), ping);
        }
    }

    @Test
    void commandToMissingLunGetsIllegalRequestWhileOthersRun() throws Exception {
        try (IscsiSession session = IscsiSession.login(target.portal(), options())) {
            for (int lun : new int[] {200, 1023}) {
                ScsiResult r = session.execute(ScsiRequest.read(lun, Cdbs.read16(0, 8), 4096));
                assertThat(r.status()).as("%s", r).isEqualTo(ScsiResult.CHECK_CONDITION);
                assertThat(r.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("%s", r.sense()).isTrue();
                byte[] payload = Patterns.blocks(0, 8, 512, 1);
                ScsiResult w = session.execute(ScsiRequest.write(lun, Cdbs.write16(0, 8), payload));
                assertThat(w.status()).as("%s", w).isEqualTo(ScsiResult.CHECK_CONDITION);
                assertThat(w.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("%s", w.sense()).isTrue();
            }
            assertThat(session.protocolViolations()).filteredOn(v -> !toleratedDeviations().contains(v.kind()))
                    .isEmpty();
        }
    }

    @Test
    void textRequestWithUnknownKeyIsAnsweredNotUnderstood() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(quirks().contains(Quirk.NO_TEXT_REQUEST_IN_NORMAL_SESSION),
                "target does not take Text Requests in normal sessions");
        try (IscsiSession session = IscsiSession.login(target.portal(), options())) {
            TextParameters answer = session.text(new TextParameters().add("X-io.tandem.Bogus", "1"));
            assertThat(answer.get("X-io.tandem.Bogus")).isEqualTo("NotUnderstood");
        }
    }
}
