package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.scsi.core.AluaState;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ALUA over iSCSI with the Java test initiator: INQUIRY claims implicit and explicit ALUA, REPORT
 * TARGET PORT GROUPS agrees with VPD page 83h, SET TARGET PORT GROUPS from one session moves the
 * node's group and the other session hears of it, and an implicit transition reaches both.
 */
@Timeout(60)
class TandemAluaTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dataDir;

    private TandemNode node;
    private IscsiSession first;
    private IscsiSession second;

    @BeforeEach
    void start() throws IOException {
        node = TandemNode.start(NodeConfig.builder()
                .targetName("iqn.2025-01.io.tandem.it:alua")
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(dataDir)
                .lun(LunConfig.memory(0, 4 * MIB, 512))
                .shutdownGrace(Duration.ofSeconds(1))
                .build());
        first = login("iqn.2025-01.io.tandem.it:first");
        second = login("iqn.2025-01.io.tandem.it:second");
        for (IscsiSession s : Arrays.asList(first, second)) {
            s.device(0).testUnitReady(); // the login's power-on unit attention
        }
    }

    @AfterEach
    void stop() {
        for (IscsiSession s : Arrays.asList(first, second)) {
            if (s != null) {
                s.close();
            }
        }
        node.close();
    }

    private IscsiSession login(String name) throws IOException {
        return IscsiSession.login(node.portal(), LoginOptions.normal(node.targetName()).initiatorName(name));
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    private static int u32(byte[] b, int at) {
        return (u16(b, at) << 16) | u16(b, at + 2);
    }

    private static byte[] rtpg(IscsiSession s, int format) throws IOException {
        byte[] cdb = new byte[12];
        cdb[0] = (byte) 0xA3;
        cdb[1] = (byte) ((format << 5) | 0x0A);
        cdb[9] = (byte) 255;
        return s.execute(ScsiRequest.read(0, cdb, 255)).requireGood();
    }

    private static ScsiResult stpg(IscsiSession s, int state, int group) throws IOException {
        byte[] list = {0, 0, 0, 0, (byte) state, 0, (byte) (group >> 8), (byte) group};
        byte[] cdb = new byte[12];
        cdb[0] = (byte) 0xA4;
        cdb[1] = 0x0A;
        cdb[9] = (byte) list.length;
        return s.execute(ScsiRequest.write(0, cdb, list));
    }

    private static void assertSense(ScsiResult r, int key, int asc, int ascq) {
        assertThat(r.status()).as("%s", r).isEqualTo(ScsiResult.CHECK_CONDITION);
        assertThat(r.sense().is(key, asc, ascq)).as("%s", r.sense()).isTrue();
    }

    @Test
    void targetPortGroupsAgreeWithInquiry() throws IOException {
        assertThat((first.device(0).inquiry().raw()[5] >> 4) & 0x3).as("TPGS implicit and explicit").isEqualTo(3);
        byte[] plain = rtpg(first, 0);
        assertThat(u32(plain, 0)).isEqualTo(plain.length - 4);
        assertThat(plain).hasSize(4 + 8 + 4);
        assertThat(plain[4] & 0x0F).as("Active/Optimized").isZero();
        int group = ((plain[6] & 0xFF) << 8) | (plain[7] & 0xFF);
        int port = ((plain[14] & 0xFF) << 8) | (plain[15] & 0xFF);
        byte[] extended = rtpg(second, 1);
        assertThat(extended[4]).isEqualTo((byte) 0x10);
        assertThat(extended[5] & 0xFF).as("implicit transition time").isPositive();
        assertThat(Arrays.copyOfRange(extended, 8, extended.length)).isEqualTo(Arrays.copyOfRange(plain, 4, plain.length));

        byte[] vpd = first.device(0).inquiryVpd(0x83, 255);
        int designatedGroup = -1;
        int designatedPort = -1;
        for (int at = 4; at < 4 + u16(vpd, 2); at += 4 + (vpd[at + 3] & 0xFF)) {
            int value = ((vpd[at + 6] & 0xFF) << 8) | (vpd[at + 7] & 0xFF);
            switch (vpd[at + 1] & 0x0F) {
                case 0x4 -> designatedPort = value;
                case 0x5 -> designatedGroup = value;
                default -> { }
            }
        }
        assertThat(designatedGroup).isEqualTo(group);
        assertThat(designatedPort).isEqualTo(port);
    }

    @Test
    void setTargetPortGroupsMovesTheGroupAndTellsTheOtherSession() throws IOException {
        int group = ((rtpg(first, 0)[6] & 0xFF) << 8) | (rtpg(first, 0)[7] & 0xFF);
        assertThat(stpg(first, 0x2, group).isGood()).isTrue();
        assertSense(first.execute(ScsiRequest.read(0, Cdbs.read10(0, 1), 512)), Sense.NOT_READY, 0x04, 0x0B);
        assertSense(second.device(0).testUnitReady(), Sense.UNIT_ATTENTION, 0x2A, 0x06);
        assertSense(second.device(0).testUnitReady(), Sense.NOT_READY, 0x04, 0x0B);
        assertThat(rtpg(second, 0)[4] & 0x0F).as("Standby").isEqualTo(0x2);
        assertThat(rtpg(second, 0)[9]).as("STATUS CODE: altered by SET TARGET PORT GROUPS").isEqualTo((byte) 0x01);

        assertThat(stpg(second, 0x0, group).isGood()).as("back, from the standby path itself").isTrue();
        assertSense(first.device(0).testUnitReady(), Sense.UNIT_ATTENTION, 0x2A, 0x06);
        assertThat(first.device(0).read10(0, 1)).hasSize(512);
    }

    @Test
    void anImplicitTransitionReachesEverySession() throws IOException {
        node.changeAccessState(AluaState.UNAVAILABLE);
        for (IscsiSession s : Arrays.asList(first, second)) {
            assertSense(s.device(0).testUnitReady(), Sense.UNIT_ATTENTION, 0x2A, 0x06);
            assertSense(s.device(0).testUnitReady(), Sense.NOT_READY, 0x04, 0x0C);
            assertThat(rtpg(s, 0)[9]).as("STATUS CODE: altered implicitly").isEqualTo((byte) 0x02);
        }
        node.changeAccessState(AluaState.ACTIVE_OPTIMIZED);
        assertSense(first.device(0).testUnitReady(), Sense.UNIT_ATTENTION, 0x2A, 0x06);
        assertThat(first.device(0).testUnitReady().isGood()).isTrue();
    }
}
