package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginDriver.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextNegotiationTest {
    private static NegotiatedParameters session(SessionType type) {
        return new NegotiatedParameters(type, LoginFixtures.INITIATOR, null,
                type == SessionType.NORMAL ? LoginFixtures.OPEN_TARGET : null, LoginDriver.ISID, 1, null, false, false,
                8192, 262144, 262144, 65536, true, true, 1, true, true, 2, 0, 0, 1);
    }

    private static java.util.Map<String, String> keys(TextStep step) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        TextParameters.decode(step.responseData()).entries().forEach(kv -> m.put(kv.key(), kv.value()));
        return m;
    }

    @Test
    void sendTargetsAllInDiscovery() {
        TextStep step = new TextNegotiation(session(SessionType.DISCOVERY)).onTextRequest(false, text("SendTargets=All"));
        assertThat(step.error()).isNull();
        assertThat(step.sendTargets()).isEqualTo(new SendTargetsRequest(SendTargetsRequest.Scope.ALL, null));
        assertThat(step.responseData()).isEmpty();
    }

    @Test
    void sendTargetsAllInNormalSessionIsRejected() {
        TextStep step = new TextNegotiation(session(SessionType.NORMAL)).onTextRequest(false, text("SendTargets=All"));
        assertThat(step.sendTargets()).isNull();
        assertThat(keys(step)).containsEntry("SendTargets", "Reject");
    }

    @Test
    void emptySendTargetsMeansTheSessionsTargetInNormalSessions() {
        assertThat(new TextNegotiation(session(SessionType.NORMAL)).onTextRequest(false, text("SendTargets="))
                .sendTargets()).isEqualTo(new SendTargetsRequest(SendTargetsRequest.Scope.SESSION_TARGET, null));
        TextStep discovery = new TextNegotiation(session(SessionType.DISCOVERY)).onTextRequest(false, text("SendTargets="));
        assertThat(discovery.sendTargets()).isNull();
        assertThat(keys(discovery)).containsEntry("SendTargets", "Reject");
    }

    @Test
    void namedSendTargets() {
        TextStep step = new TextNegotiation(session(SessionType.DISCOVERY))
                .onTextRequest(false, text("SendTargets=iqn.2024-01.io.tandem:open"));
        assertThat(step.sendTargets()).isEqualTo(
                new SendTargetsRequest(SendTargetsRequest.Scope.NAMED, "iqn.2024-01.io.tandem:open"));
    }

    @Test
    void maxRecvDataSegmentLengthMayBeDeclaredAgain() {
        TextNegotiation t = new TextNegotiation(session(SessionType.NORMAL));
        TextStep step = t.onTextRequest(false, text("MaxRecvDataSegmentLength=65536", "InitiatorAlias=new"));
        assertThat(step.responseData()).isEmpty();
        assertThat(step.parameters().initiatorMaxRecvDataSegmentLength()).isEqualTo(65536);
        assertThat(step.parameters().initiatorAlias()).isEqualTo("new");
        assertThat(t.parameters()).isEqualTo(step.parameters());

        TextStep bad = t.onTextRequest(false, text("MaxRecvDataSegmentLength=1"));
        assertThat(keys(bad)).containsEntry("MaxRecvDataSegmentLength", "Reject");
        assertThat(bad.parameters().initiatorMaxRecvDataSegmentLength()).isEqualTo(65536);
    }

    @Test
    void loginOnlyKeysAreRejectedAndUnknownKeysNotUnderstood() {
        TextStep step = new TextNegotiation(session(SessionType.NORMAL)).onTextRequest(false,
                text("MaxBurstLength=4096", "HeaderDigest=CRC32C", "InitiatorName=iqn.x:y", "AuthMethod=None",
                        "TargetAlias=x", "X-vendor.thing=1"));
        assertThat(keys(step)).containsEntry("MaxBurstLength", "Reject").containsEntry("HeaderDigest", "Reject")
                .containsEntry("InitiatorName", "Reject").containsEntry("AuthMethod", "Reject")
                .containsEntry("TargetAlias", "Reject").containsEntry("X-vendor.thing", "NotUnderstood");
        assertThat(step.parameters().maxBurstLength()).isEqualTo(262144);
    }

    @Test
    void malformedTextIsReportedAsError() {
        TextStep step = new TextNegotiation(session(SessionType.NORMAL)).onTextRequest(false, text("garbage"));
        assertThat(step.error()).isNotNull();
        assertThat(step.sendTargets()).isNull();
    }

    @Test
    void continuedTextIsJoined() {
        TextNegotiation t = new TextNegotiation(session(SessionType.DISCOVERY));
        byte[] all = text("SendTargets=All");
        TextStep first = t.onTextRequest(true, Arrays.copyOfRange(all, 0, 5));
        assertThat(first.incomplete()).isTrue();
        assertThat(first.sendTargets()).isNull();
        TextStep last = t.onTextRequest(false, Arrays.copyOfRange(all, 5, all.length));
        assertThat(last.incomplete()).isFalse();
        assertThat(last.sendTargets().scope()).isEqualTo(SendTargetsRequest.Scope.ALL);
    }

    @Test
    void sendTargetsAnswerRepeatsTargetNameForEachTarget() {
        byte[] answer = SendTargets.encode(List.of(
                new SendTargetsEntry("iqn.a:1", List.of(SendTargets.address("192.0.2.1", 3260, 1),
                        SendTargets.address("::1", 3261, 2))),
                new SendTargetsEntry("iqn.a:2", List.of())));
        assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo(
                "TargetName=iqn.a:1\0TargetAddress=192.0.2.1:3260,1\0TargetAddress=[::1]:3261,2\0TargetName=iqn.a:2\0");
    }

    @Test
    void addressKeepsBracketedIpv6AndHostNames() {
        assertThat(SendTargets.address("[fe80::1]", 3260, 7)).isEqualTo("[fe80::1]:3260,7");
        assertThat(SendTargets.address("node1.example", 3260, 0)).isEqualTo("node1.example:3260,0");
    }

    @Test
    void splitCutsAtTheSegmentLimit() {
        byte[] data = new byte[10];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        List<byte[]> pieces = SendTargets.split(data, 4);
        assertThat(pieces).hasSize(3);
        assertThat(pieces.get(0)).containsExactly(0, 1, 2, 3);
        assertThat(pieces.get(2)).containsExactly(8, 9);
        assertThat(SendTargets.split(new byte[0], 4)).hasSize(1);
    }
}
