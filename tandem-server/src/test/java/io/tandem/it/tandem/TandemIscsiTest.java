package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.Opcode;
import io.tandem.it.initiator.RawConnection;
import io.tandem.it.suite.IscsiTargetContract;
import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TargetSpec;
import io.tandem.it.target.TargetUnderTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The iSCSI contract against Tandem: no quirks, no tolerated deviations; plus Tandem's own liveness rule. */
class TandemIscsiTest extends IscsiTargetContract {
    @Override
    protected TargetLauncher createLauncher() throws Exception {
        return new TandemLauncher();
    }

    @Test
    @Timeout(30)
    void anInitiatorThatStopsAnsweringPingsIsDropped() throws Exception {
        // Pings after 1 s idle; the launcher allows 5 s for the answer.
        TargetUnderTest target = target(TargetSpec.plain().withNopIn(Duration.ofSeconds(1)));
        try (RawConnection raw = RawConnection.login(target.portal(), options(target))) {
            RawConnection.Outcome first = raw.next(Duration.ofSeconds(5));
            assertThat(first).as("an idle session is pinged").isInstanceOfSatisfying(RawConnection.Received.class,
                    r -> assertThat(r.pdu().opcode()).isEqualTo(Opcode.NOP_IN));
            // never answer: the target must give up on the connection, and not before its timeout
            long start = System.nanoTime();
            assertThat(raw.awaitClose(Duration.ofSeconds(15))).as("silent initiator dropped").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofSeconds(3));
        }
    }
}
