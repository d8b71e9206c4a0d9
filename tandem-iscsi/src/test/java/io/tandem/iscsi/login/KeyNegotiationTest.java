package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginDriver.concat;
import static io.tandem.iscsi.login.LoginDriver.keys;
import static io.tandem.iscsi.login.LoginFixtures.INITIATOR;
import static io.tandem.iscsi.login.LoginFixtures.OPEN_TARGET;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Results of each negotiation type, checked through a real login: the initiator offers a full
 * operational key set with one key changed, and the test reads the target's answer and the
 * negotiated parameters.
 */
class KeyNegotiationTest {
    /** Every key the target would otherwise offer, at values that settle them without surprises. */
    private static final String[] BASE = {
        "HeaderDigest=None", "DataDigest=None", "InitialR2T=No", "ImmediateData=Yes", "MaxBurstLength=1048576",
        "FirstBurstLength=65536", "MaxOutstandingR2T=16", "MaxRecvDataSegmentLength=65536",
    };

    private static LoginStep login(TargetPreferences preferences, String... pairs) {
        Map<String, String> merged = new java.util.LinkedHashMap<>();
        for (String p : concat(BASE, pairs)) {
            int eq = p.indexOf('=');
            merged.put(p.substring(0, eq), p.substring(eq + 1));
        }
        String[] all = merged.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        LoginDriver d = new LoginDriver(LoginFixtures.config(preferences));
        return d.transit(1, 3, concat(new String[] {"InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET}, all));
    }

    private static LoginStep login(String... pairs) {
        return login(TargetPreferences.defaults(), pairs);
    }

    @ParameterizedTest(name = "{0}={1} -> {2}")
    @CsvSource({
        // numeric, result is the minimum
        "MaxBurstLength, 16776192, 1048576",
        "MaxBurstLength, 4096, 4096",
        "MaxBurstLength, 512, 512",
        "MaxBurstLength, 0x1000, 4096",
        "MaxOutstandingR2T, 64, 16",
        "MaxOutstandingR2T, 1, 1",
        "MaxConnections, 8, 1",
        "ErrorRecoveryLevel, 2, 0",
        "DefaultTime2Retain, 20, 0",
        // numeric, result is the maximum
        "DefaultTime2Wait, 0, 2",
        "DefaultTime2Wait, 10, 10",
        // boolean OR: the target wants InitialR2T=No, DataPDUInOrder=Yes, DataSequenceInOrder=Yes
        "InitialR2T, Yes, Yes",
        "InitialR2T, No, No",
        "DataPDUInOrder, No, Yes",
        "DataSequenceInOrder, No, Yes",
        // boolean AND: the target wants ImmediateData=Yes
        "ImmediateData, No, No",
        "ImmediateData, Yes, Yes",
        "IFMarker, Yes, No",
        // lists: first of the initiator's values the target supports
        "HeaderDigest, 'CRC32C,None', CRC32C",
        "HeaderDigest, 'None,CRC32C', None",
        "DataDigest, CRC32C, CRC32C",
        "HeaderDigest, 'MD5,CRC32C', CRC32C",
        "TaskReporting, 'FastAbort,RFC3720', RFC3720",
    })
    void resultFollowsTheKeysFunction(String key, String offer, String expected) {
        LoginStep step = login(key + "=" + offer);
        assertThat(step.isFailure()).as(step.reason()).isFalse();
        assertThat(keys(step)).containsEntry(key, expected);
    }

    @ParameterizedTest(name = "{0}={1} -> Reject")
    @CsvSource({
        "MaxBurstLength, 511",
        "MaxBurstLength, 16777216",
        "MaxBurstLength, abc",
        "MaxBurstLength, -5",
        "FirstBurstLength, 100",
        "MaxOutstandingR2T, 0",
        "MaxOutstandingR2T, 65536",
        "DefaultTime2Wait, 3601",
        "ErrorRecoveryLevel, 3",
        "MaxConnections, 0",
        "InitialR2T, maybe",
        "ImmediateData, yes",
        "HeaderDigest, MD5",
        "TaskReporting, Other",
        "IFMarkInt, 2048~8192",
        "OFMarkInt, 2048",
    })
    void unacceptableOffersAreAnsweredWithReject(String key, String offer) {
        LoginStep step = login(key + "=" + offer);
        assertThat(step.isFailure()).isFalse();
        assertThat(keys(step)).containsEntry(key, "Reject");
    }

    @Test
    void rejectedKeysKeepTheirDefault() {
        LoginStep step = login("MaxBurstLength=100", "FirstBurstLength=512");
        assertThat(step.parameters().maxBurstLength()).isEqualTo(262144);
        assertThat(step.parameters().firstBurstLength()).isEqualTo(512);
    }

    @Test
    void unknownAndPrivateKeysAreNotUnderstood() {
        LoginStep step = login("X-com.example.Feature=1", "X#NodeArchitecture=Linux", "iSCSIProtocolLevel=1",
                "NoSuchKey=7");
        assertThat(step.complete()).isTrue();
        assertThat(keys(step)).containsEntry("X-com.example.Feature", "NotUnderstood")
                .containsEntry("X#NodeArchitecture", "NotUnderstood")
                .containsEntry("iSCSIProtocolLevel", "NotUnderstood")
                .containsEntry("NoSuchKey", "NotUnderstood");
    }

    @Test
    void firstBurstIsCappedAtMaxBurstEvenWhenOfferedFirst() {
        LoginStep step = login("FirstBurstLength=65536", "MaxBurstLength=4096");
        assertThat(keys(step)).containsEntry("MaxBurstLength", "4096").containsEntry("FirstBurstLength", "4096");
        assertThat(step.parameters().firstBurstLength()).isEqualTo(4096);
        assertThat(step.parameters().maxBurstLength()).isEqualTo(4096);
    }

    @Test
    void firstBurstIsCappedAtDefaultMaxBurstWhenMaxBurstIsNotNegotiatedYet() {
        TargetPreferences prefs = TargetPreferences.builder().maxBurstLength(262144).firstBurstLength(262144).build();
        LoginDriver d = new LoginDriver(LoginFixtures.config(prefs));
        LoginStep step = d.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "FirstBurstLength=1048576");
        assertThat(keys(step)).containsEntry("FirstBurstLength", "262144");
    }

    @Test
    void firstBurstBelowMaxBurstIsKept() {
        LoginStep step = login("FirstBurstLength=8192", "MaxBurstLength=262144");
        assertThat(step.parameters().firstBurstLength()).isEqualTo(8192);
        assertThat(step.parameters().maxBurstLength()).isEqualTo(262144);
    }

    @Test
    void initiatorMaxRecvDataSegmentLengthIsADeclaration() {
        LoginStep step = login("MaxRecvDataSegmentLength=0x2000");
        assertThat(step.parameters().initiatorMaxRecvDataSegmentLength()).isEqualTo(8192);
        // The only MaxRecvDataSegmentLength in the answer is the target's own declaration.
        assertThat(keys(step)).containsEntry("MaxRecvDataSegmentLength", "262144");
        assertThat(step.parameters().targetMaxRecvDataSegmentLength()).isEqualTo(262144);
    }

    @Test
    void invalidDeclarationFailsTheLogin() {
        assertThat(login("MaxRecvDataSegmentLength=100").statusCode()).isEqualTo(0x0200);
        assertThat(login("MaxRecvDataSegmentLength=16777216").statusCode()).isEqualTo(0x0200);
    }

    @Test
    void targetPreferencesDriveTheAnswers() {
        TargetPreferences prefs = TargetPreferences.builder().maxRecvDataSegmentLength(65536).immediateData(false)
                .initialR2T(true).dataPDUInOrder(false).maxOutstandingR2T(4).build();
        LoginStep step = login(prefs, "ImmediateData=Yes", "InitialR2T=No", "DataPDUInOrder=No",
                "MaxOutstandingR2T=8");
        assertThat(keys(step)).containsEntry("ImmediateData", "No").containsEntry("InitialR2T", "Yes")
                .containsEntry("DataPDUInOrder", "No").containsEntry("MaxOutstandingR2T", "4")
                .containsEntry("MaxRecvDataSegmentLength", "65536");
        NegotiatedParameters p = step.parameters();
        assertThat(p.immediateData()).isFalse();
        assertThat(p.initialR2T()).isTrue();
        assertThat(p.dataPDUInOrder()).isFalse();
        assertThat(p.targetMaxRecvDataSegmentLength()).isEqualTo(65536);
    }

    @Test
    void digestsBecomeBooleans() {
        LoginStep step = login("HeaderDigest=CRC32C,None", "DataDigest=CRC32C");
        assertThat(step.parameters().headerDigest()).isTrue();
        assertThat(step.parameters().dataDigest()).isTrue();
    }

    @Test
    void forbiddenDigestIsNeverChosen() {
        TargetPreferences prefs = TargetPreferences.builder().headerDigest(DigestPolicy.FORBID).build();
        assertThat(keys(login(prefs, "HeaderDigest=CRC32C,None"))).containsEntry("HeaderDigest", "None");
        LoginStep onlyCrc = login(prefs, "HeaderDigest=CRC32C");
        assertThat(keys(onlyCrc)).containsEntry("HeaderDigest", "Reject");
        assertThat(onlyCrc.parameters().headerDigest()).isFalse();
    }

    @Test
    void requiredDigestIsChosenWhenOfferedAnywhereInTheList() {
        TargetPreferences prefs = TargetPreferences.builder().dataDigest(DigestPolicy.REQUIRE_CRC32C).build();
        LoginStep step = login(prefs, "DataDigest=None,CRC32C");
        assertThat(keys(step)).containsEntry("DataDigest", "CRC32C");
        assertThat(step.parameters().dataDigest()).isTrue();
    }

    @Test
    void requiredDigestRefusedByTheInitiatorFailsTheLogin() {
        TargetPreferences prefs = TargetPreferences.builder().headerDigest(DigestPolicy.REQUIRE_CRC32C).build();
        LoginStep step = login(prefs, "HeaderDigest=None");
        assertThat(step.statusCode()).isEqualTo(0x0200);
        assertThat(step.reason()).contains("HeaderDigest");
    }

    @Test
    void discoveryAnswersIrrelevantButNegotiatesDigests() {
        LoginDriver d = new LoginDriver(LoginFixtures.config());
        LoginStep step = d.transit(1, 3, "InitiatorName=" + INITIATOR, "SessionType=Discovery",
                "HeaderDigest=CRC32C", "MaxBurstLength=100", "TaskReporting=RFC3720");
        assertThat(step.complete()).isTrue();
        assertThat(keys(step)).containsEntry("HeaderDigest", "CRC32C").containsEntry("MaxBurstLength", "Irrelevant")
                .containsEntry("TaskReporting", "Irrelevant");
        assertThat(step.parameters().headerDigest()).isTrue();
        assertThat(step.parameters().maxBurstLength()).isEqualTo(262144);
    }

    @Test
    void everyTableRowIsConsistent() {
        for (KeyDefinition def : LoginKeys.all()) {
            assertThat(LoginKeys.lookup(def.name())).isSameAs(def);
            if (def.isNumeric()) {
                assertThat(def.max()).as(def.name()).isGreaterThanOrEqualTo(def.min());
                if (def.rfcDefault() != null) {
                    assertThat(def.parseInRange(def.rfcDefault())).as(def.name()).isNotNegative();
                }
            }
            String ours = def.targetValueFor(TargetPreferences.defaults());
            if (ours != null && def.isNumeric()) {
                assertThat(def.parseInRange(ours)).as(def.name()).isNotNegative();
            }
        }
    }
}
