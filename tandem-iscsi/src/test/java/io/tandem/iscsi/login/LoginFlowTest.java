package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginDriver.concat;
import static io.tandem.iscsi.login.LoginDriver.keys;
import static io.tandem.iscsi.login.LoginDriver.libiscsiOperationalKeys;
import static io.tandem.iscsi.login.LoginFixtures.INITIATOR;
import static io.tandem.iscsi.login.LoginFixtures.OPEN_TARGET;
import static io.tandem.iscsi.login.LoginFixtures.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whole logins without authentication, shaped like the initiators Tandem meets. */
class LoginFlowTest {
    @Test
    void libiscsiSinglePduLoginWithoutChap() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, concat(new String[] {
            "InitiatorName=" + INITIATOR, "InitiatorAlias=client", "TargetName=" + OPEN_TARGET, "SessionType=Normal"},
                libiscsiOperationalKeys()));

        assertThat(step.isFailure()).isFalse();
        assertThat(step.transit()).isTrue();
        assertThat(step.csg()).isEqualTo(1);
        assertThat(step.nsg()).isEqualTo(3);
        assertThat(step.complete()).isTrue();

        Map<String, String> reply = keys(step);
        assertThat(reply).containsEntry("HeaderDigest", "None")
                .containsEntry("DataDigest", "None")
                .containsEntry("InitialR2T", "No")
                .containsEntry("ImmediateData", "Yes")
                .containsEntry("MaxBurstLength", "262144")
                .containsEntry("FirstBurstLength", "65536")
                .containsEntry("DefaultTime2Wait", "2")
                .containsEntry("DefaultTime2Retain", "0")
                .containsEntry("MaxOutstandingR2T", "1")
                .containsEntry("ErrorRecoveryLevel", "0")
                .containsEntry("IFMarker", "No")
                .containsEntry("OFMarker", "No")
                .containsEntry("MaxConnections", "1")
                .containsEntry("DataPDUInOrder", "Yes")
                .containsEntry("DataSequenceInOrder", "Yes")
                .containsEntry("MaxRecvDataSegmentLength", "262144")
                .containsEntry("TargetPortalGroupTag", "1")
                .containsEntry("TargetAlias", "open disk");
        // Declarations of the initiator are not answered.
        assertThat(reply).doesNotContainKeys("InitiatorName", "TargetName", "SessionType", "InitiatorAlias");

        NegotiatedParameters p = step.parameters();
        assertThat(p).isEqualTo(d.negotiator.result());
        assertThat(p.sessionType()).isEqualTo(SessionType.NORMAL);
        assertThat(p.initiatorName()).isEqualTo(INITIATOR);
        assertThat(p.initiatorAlias()).isEqualTo("client");
        assertThat(p.targetName()).isEqualTo(OPEN_TARGET);
        assertThat(p.isid()).isEqualTo(LoginDriver.ISID);
        assertThat(p.portalGroupTag()).isEqualTo(1);
        assertThat(p.authenticatedUser()).isNull();
        assertThat(p.headerDigest()).isFalse();
        assertThat(p.dataDigest()).isFalse();
        assertThat(p.initiatorMaxRecvDataSegmentLength()).isEqualTo(262144);
        assertThat(p.targetMaxRecvDataSegmentLength()).isEqualTo(262144);
        assertThat(p.maxBurstLength()).isEqualTo(262144);
        assertThat(p.firstBurstLength()).isEqualTo(65536);
        assertThat(p.initialR2T()).isFalse();
        assertThat(p.immediateData()).isTrue();
        assertThat(p.maxOutstandingR2T()).isEqualTo(1);
        assertThat(p.dataPDUInOrder()).isTrue();
        assertThat(p.dataSequenceInOrder()).isTrue();
        assertThat(p.defaultTime2Wait()).isEqualTo(2);
        assertThat(p.defaultTime2Retain()).isZero();
        assertThat(p.errorRecoveryLevel()).isZero();
        assertThat(p.maxConnections()).isEqualTo(1);
        assertThat(d.negotiator.isComplete()).isTrue();
    }

    @Test
    void openIscsiStyleSecurityStageWithAuthMethodNoneThenOperational() {
        LoginDriver d = new LoginDriver(config());
        LoginStep sec = d.transit(0, 1, "InitiatorName=" + INITIATOR, "InitiatorAlias=host",
                "TargetName=" + OPEN_TARGET, "SessionType=Normal", "AuthMethod=None");
        assertThat(sec.isFailure()).isFalse();
        assertThat(sec.transit()).isTrue();
        assertThat(sec.csg()).isZero();
        assertThat(sec.nsg()).isEqualTo(1);
        assertThat(keys(sec)).containsExactly(Map.entry("AuthMethod", "None"), Map.entry("TargetPortalGroupTag", "1"),
                Map.entry("TargetAlias", "open disk"));

        LoginStep op = d.transit(1, 3, "HeaderDigest=None", "DataDigest=None", "DefaultTime2Wait=2",
                "DefaultTime2Retain=0", "IFMarker=No", "OFMarker=No", "ErrorRecoveryLevel=0", "InitialR2T=No",
                "ImmediateData=Yes", "MaxBurstLength=16776192", "FirstBurstLength=262144", "MaxOutstandingR2T=1",
                "MaxConnections=1", "DataPDUInOrder=Yes", "DataSequenceInOrder=Yes",
                "MaxRecvDataSegmentLength=262144");
        assertThat(op.complete()).isTrue();
        assertThat(keys(op)).doesNotContainKey("TargetPortalGroupTag")
                .containsEntry("MaxBurstLength", "1048576")
                .containsEntry("FirstBurstLength", "65536")
                .containsEntry("MaxRecvDataSegmentLength", "262144");
        assertThat(op.parameters().maxBurstLength()).isEqualTo(1048576);
    }

    @Test
    void libiscsiRepeatsItsDeclarationsAfterAuthMethodNoneAndThatIsAccepted() {
        // libiscsi with a CHAP user against a target that needs none: it offers CHAP,None, gets
        // None, and sends InitiatorName/TargetName/SessionType again in the operational stage.
        LoginDriver d = new LoginDriver(config());
        String[] names = {"InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "SessionType=Normal"};
        LoginStep sec = d.transit(0, 1, concat(names, "AuthMethod=CHAP,None"));
        assertThat(keys(sec)).containsEntry("AuthMethod", "None");
        assertThat(sec.transit()).isTrue();
        LoginStep op = d.transit(1, 3, concat(names, libiscsiOperationalKeys()));
        assertThat(op.isFailure()).isFalse();
        assertThat(op.complete()).isTrue();
    }

    @Test
    void changingADeclarationDuringLoginIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        d.transit(0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "AuthMethod=None");
        LoginStep op = d.transit(1, 3, "InitiatorName=iqn.other:host");
        assertThat(op.statusCode()).isEqualTo(0x0200);
    }

    @Test
    void securityStageMayGoStraightToFullFeature() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(0, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "SessionType=Normal", "AuthMethod=None");
        assertThat(step.complete()).isTrue();
        NegotiatedParameters p = step.parameters();
        // Nothing was declared either way, so both sides use the RFC default.
        assertThat(p.targetMaxRecvDataSegmentLength()).isEqualTo(8192);
        assertThat(p.initiatorMaxRecvDataSegmentLength()).isEqualTo(8192);
        assertThat(p.maxBurstLength()).isEqualTo(262144);
        assertThat(p.initialR2T()).isTrue();
        assertThat(p.maxOutstandingR2T()).isEqualTo(1);
    }

    @Test
    void nonTransitRequestsGetNonTransitResponsesWithNsgZero() {
        LoginDriver d = new LoginDriver(config());
        LoginStep first = d.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "MaxBurstLength=65536");
        assertThat(first.transit()).isFalse();
        assertThat(first.nsg()).isZero();
        assertThat(first.csg()).isEqualTo(1);
        assertThat(keys(first)).containsEntry("MaxBurstLength", "65536").containsEntry("MaxRecvDataSegmentLength", "262144");
        LoginStep second = d.transit(1, 3, concat(new String[0], "InitialR2T=No", "MaxOutstandingR2T=8",
                "DefaultTime2Retain=0"));
        assertThat(second.complete()).isTrue();
        // The target declares its MaxRecvDataSegmentLength once only.
        assertThat(keys(second)).doesNotContainKey("MaxRecvDataSegmentLength");
        assertThat(second.parameters().maxBurstLength()).isEqualTo(65536);
        assertThat(second.parameters().maxOutstandingR2T()).isEqualTo(8);
    }

    @Test
    void continuedTextIsJoinedBeforeNegotiation() {
        LoginDriver d = new LoginDriver(config());
        byte[] all = LoginDriver.text(concat(new String[] {"InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET},
                libiscsiOperationalKeys()));
        int cut1 = 20;
        int cut2 = 100;
        LoginStep p1 = d.raw(1, 0, false, true, 0, 0, LoginDriver.ISID, 0, java.util.Arrays.copyOfRange(all, 0, cut1));
        assertThat(p1.isFailure()).isFalse();
        assertThat(p1.transit()).isFalse();
        assertThat(p1.responseData()).isEmpty();
        LoginStep p2 = d.raw(1, 0, false, true, 0, 0, LoginDriver.ISID, 0, java.util.Arrays.copyOfRange(all, cut1, cut2));
        assertThat(p2.responseData()).isEmpty();
        LoginStep p3 = d.raw(1, 3, true, false, 0, 0, LoginDriver.ISID, 0,
                java.util.Arrays.copyOfRange(all, cut2, all.length));
        assertThat(p3.complete()).isTrue();
        assertThat(keys(p3)).containsEntry("MaxBurstLength", "262144").containsEntry("TargetPortalGroupTag", "1");
    }

    @Test
    void tBitTogetherWithCBitIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.send(1, 3, true, true, "InitiatorName=" + INITIATOR);
        assertThat(step.statusCode()).isEqualTo(0x0200);
        assertThat(step.transit()).isFalse();
    }

    @Test
    void requestsAfterTheEndAreRefused() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, concat(libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR,
                "TargetName=" + OPEN_TARGET)).complete()).isTrue();
        assertThatThrownBy(() -> d.transit(1, 3)).isInstanceOf(IllegalStateException.class);

        LoginDriver failed = new LoginDriver(config());
        failed.transit(1, 3, "TargetName=" + OPEN_TARGET);
        assertThat(failed.negotiator.isFailed()).isTrue();
        assertThatThrownBy(() -> failed.transit(1, 3)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void discoverySessionAnswersIrrelevantKeysAndSkipsTargetDeclarations() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, concat(new String[] {"InitiatorName=" + INITIATOR, "SessionType=Discovery"},
                libiscsiOperationalKeys()));
        assertThat(step.complete()).isTrue();
        Map<String, String> reply = keys(step);
        for (String irrelevant : new String[] {"InitialR2T", "ImmediateData", "MaxBurstLength", "FirstBurstLength",
            "MaxOutstandingR2T", "MaxConnections", "DataPDUInOrder", "DataSequenceInOrder"}) {
            assertThat(reply).containsEntry(irrelevant, "Irrelevant");
        }
        assertThat(reply).containsEntry("HeaderDigest", "None").containsEntry("ErrorRecoveryLevel", "0")
                .containsEntry("DefaultTime2Wait", "2").containsEntry("MaxRecvDataSegmentLength", "262144")
                .doesNotContainKeys("TargetPortalGroupTag", "TargetAlias");
        NegotiatedParameters p = step.parameters();
        assertThat(p.sessionType()).isEqualTo(SessionType.DISCOVERY);
        assertThat(p.targetName()).isNull();
        assertThat(p.portalGroupTag()).isEqualTo(-1);
        assertThat(p.initiatorMaxRecvDataSegmentLength()).isEqualTo(262144);
    }

    @Test
    void discoveryIgnoresTargetName() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, concat(libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR,
                "SessionType=Discovery", "TargetName=iqn.nowhere:x"));
        assertThat(step.complete()).isTrue();
        assertThat(step.parameters().targetName()).isNull();
    }

    @Test
    void openIscsiDiscoveryGoesFromSecurityStraightToFullFeature() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(0, 3, "InitiatorName=" + INITIATOR, "SessionType=Discovery", "AuthMethod=None");
        assertThat(step.complete()).isTrue();
        assertThat(keys(step)).containsExactly(Map.entry("AuthMethod", "None"));
    }

    @Test
    void disabledDiscoveryIsRefused() {
        LoginDriver d = new LoginDriver(LoginFixtures.configBuilder().discoveryEnabled(false).build());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "SessionType=Discovery").statusCode())
                .isEqualTo(0x0209);
    }

    @Test
    void unknownSessionTypeIsRefused() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "SessionType=Boot").statusCode()).isEqualTo(0x0209);
    }

    @Test
    void sessionTypeDefaultsToNormal() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, concat(libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR,
                "TargetName=" + OPEN_TARGET));
        assertThat(step.parameters().sessionType()).isEqualTo(SessionType.NORMAL);
    }

    @Test
    void unknownTargetIsNotFound() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=iqn.2024-01.io.tandem:nope");
        assertThat(step.statusClass()).isEqualTo(2);
        assertThat(step.statusDetail()).isEqualTo(3);
        assertThat(step.reason()).contains("nope");
    }

    @Test
    void missingTargetNameInNormalSessionIsMissingParameter() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "SessionType=Normal").statusCode()).isEqualTo(0x0207);
    }

    @Test
    void missingInitiatorNameIsMissingParameter() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "TargetName=" + OPEN_TARGET).statusCode()).isEqualTo(0x0207);
        LoginDriver empty = new LoginDriver(config());
        assertThat(empty.transit(1, 3, "InitiatorName=", "TargetName=" + OPEN_TARGET).statusCode()).isEqualTo(0x0207);
    }

    @Test
    void initiatorNameOutsideTheTargetsAclIsAnAuthorizationFailure() {
        LoginDriver allowed = new LoginDriver(config());
        assertThat(allowed.transit(1, 3, concat(libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR,
                "TargetName=" + LoginFixtures.ACL_TARGET)).complete()).isTrue();
        LoginDriver denied = new LoginDriver(config());
        assertThat(denied.transit(1, 3, "InitiatorName=iqn.1994-05.com.redhat:other",
                "TargetName=" + LoginFixtures.ACL_TARGET).statusCode()).isEqualTo(0x0202);
    }

    @Test
    void versionRangeMustIncludeZero() {
        LoginDriver bad = new LoginDriver(config());
        LoginStep step = bad.raw(1, 3, true, false, 2, 1, LoginDriver.ISID, 0,
                LoginDriver.text("InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET));
        assertThat(step.statusCode()).isEqualTo(0x0205);

        LoginDriver wide = new LoginDriver(config());
        assertThat(wide.raw(1, 3, true, false, 2, 0, LoginDriver.ISID, 0, LoginDriver.text(concat(
                libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET))).complete())
                .isTrue();
    }

    @Test
    void versionsAndIsidMustNotChangeDuringLogin() {
        LoginDriver d = new LoginDriver(config());
        d.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET);
        LoginStep step = d.raw(1, 3, true, false, 0, 0, LoginDriver.ISID + 1, 0, new byte[0]);
        assertThat(step.statusCode()).isEqualTo(0x0200);

        LoginDriver v = new LoginDriver(config());
        v.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET);
        assertThat(v.raw(1, 3, true, false, 1, 0, LoginDriver.ISID, 0, new byte[0]).statusCode()).isEqualTo(0x0200);
    }

    @Test
    void loginToAnExistingSessionWouldAddASecondConnection() {
        LoginDriver unknown = new LoginDriver(config());
        assertThat(unknown.raw(1, 3, true, false, 0, 0, LoginDriver.ISID, 7,
                LoginDriver.text("InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET)).statusCode())
                .isEqualTo(0x020a);
        LoginDriver existing = new LoginDriver(LoginFixtures.configBuilder().existingSession(t -> t == 7).build());
        assertThat(existing.raw(1, 3, true, false, 0, 0, LoginDriver.ISID, 7,
                LoginDriver.text("InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET)).statusCode())
                .isEqualTo(0x0206);
    }

    @Test
    void illegalStagesAndTransitionsAreInitiatorErrors() {
        String[] names = {"InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET};
        // CSG 3 and the reserved CSG 2 are not login stages.
        assertThat(new LoginDriver(config()).transit(3, 3, names).statusCode()).isEqualTo(0x0200);
        assertThat(new LoginDriver(config()).stay(2, names).statusCode()).isEqualTo(0x0200);
        // NSG 2 is reserved; NSG must move forward.
        assertThat(new LoginDriver(config()).transit(0, 2, names).statusCode()).isEqualTo(0x0200);
        assertThat(new LoginDriver(config()).transit(1, 1, names).statusCode()).isEqualTo(0x0200);
        assertThat(new LoginDriver(config()).transit(1, 0, names).statusCode()).isEqualTo(0x0200);
    }

    @Test
    void csgMayNotGoBackwards() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "AuthMethod=None")
                .transit()).isTrue();
        assertThat(d.stay(0).statusCode()).isEqualTo(0x0200);
    }

    @Test
    void csgMustFollowTheTargetsAnswer() {
        // The target did not transit (initiator asked with T=0), so the next request must stay in stage 0.
        LoginDriver d = new LoginDriver(config());
        d.stay(0, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "AuthMethod=None");
        assertThat(d.transit(1, 3).statusCode()).isEqualTo(0x0200);
    }

    @Test
    void operationalKeyInSecurityStageIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "AuthMethod=None", "MaxBurstLength=65536");
        assertThat(step.statusCode()).isEqualTo(0x0200);
        assertThat(step.reason()).contains("MaxBurstLength");
    }

    @Test
    void securityKeyInOperationalStageIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "AuthMethod=None")
                .statusCode()).isEqualTo(0x0200);
    }

    @Test
    void keyOnlyATargetMaySendIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "TargetPortalGroupTag=1").statusCode()).isEqualTo(0x0200);
        LoginDriver alias = new LoginDriver(config());
        assertThat(alias.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "TargetAlias=x").statusCode()).isEqualTo(0x0200);
    }

    @Test
    void duplicateKeyInOneRequestIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "MaxBurstLength=512", "MaxBurstLength=512").statusCode()).isEqualTo(0x0200);
    }

    @Test
    void malformedTextIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "Junk")
                .statusCode()).isEqualTo(0x0200);
    }

    @Test
    void renegotiatingAKeyInALaterRequestIsAnInitiatorError() {
        LoginDriver d = new LoginDriver(config());
        d.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "MaxBurstLength=65536");
        LoginStep step = d.transit(1, 3, "MaxBurstLength=65536");
        assertThat(step.statusCode()).isEqualTo(0x0200);
        assertThat(step.reason()).contains("twice");
    }

    @Test
    void targetWithTooShortSecretFailsWithTargetError() {
        LoginDriver d = new LoginDriver(config());
        assertThat(d.transit(0, 1, "InitiatorName=" + INITIATOR, "TargetName=" + LoginFixtures.WEAK_TARGET,
                "AuthMethod=CHAP").statusCode()).isEqualTo(0x0300);
        // With a lower policy the same target works as far as choosing CHAP.
        LoginDriver lenient = new LoginDriver(LoginFixtures.configBuilder().minChapSecretLength(4).build());
        assertThat(keys(lenient.transit(0, 1, "InitiatorName=" + INITIATOR,
                "TargetName=" + LoginFixtures.WEAK_TARGET, "AuthMethod=CHAP"))).containsEntry("AuthMethod", "CHAP");
    }

    @Test
    void sendTargetsDuringLoginIsRejected() {
        LoginDriver d = new LoginDriver(config());
        LoginStep step = d.transit(1, 3, concat(libiscsiOperationalKeys(), "InitiatorName=" + INITIATOR,
                "SessionType=Discovery", "SendTargets=All"));
        assertThat(step.complete()).isTrue();
        assertThat(keys(step)).containsEntry("SendTargets", "Reject");
    }
}
