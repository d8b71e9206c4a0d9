package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginDriver.keys;
import static io.tandem.iscsi.login.LoginFixtures.INITIATOR;
import static io.tandem.iscsi.login.LoginFixtures.OPEN_TARGET;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Keys the initiator leaves out: the target offers those whose default would override its
 * preference, holds the transit until they are answered, and validates the answers.
 */
class TargetOffersTest {
    private static LoginDriver silentInitiator(TargetPreferences prefs) {
        return new LoginDriver(LoginFixtures.config(prefs));
    }

    @Test
    void targetOffersItsPreferencesAndWaitsForAnswers() {
        LoginDriver d = silentInitiator(TargetPreferences.defaults());
        LoginStep offer = d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "HeaderDigest=None", "DataDigest=None");
        assertThat(offer.isFailure()).isFalse();
        assertThat(offer.transit()).isFalse();
        assertThat(keys(offer)).containsEntry("InitialR2T", "No").containsEntry("MaxBurstLength", "1048576")
                .containsEntry("MaxOutstandingR2T", "16")
                // Values equal to the RFC default are not offered.
                .doesNotContainKeys("ImmediateData", "FirstBurstLength", "ErrorRecoveryLevel", "MaxConnections",
                        "DataPDUInOrder", "DefaultTime2Wait", "DefaultTime2Retain");

        LoginStep done = d.transit(1, 3, "InitialR2T=No", "MaxBurstLength=524288", "MaxOutstandingR2T=4");
        assertThat(done.complete()).isTrue();
        // Answers are not answered again.
        assertThat(keys(done)).doesNotContainKeys("InitialR2T", "MaxBurstLength", "MaxOutstandingR2T");
        assertThat(done.parameters().initialR2T()).isFalse();
        assertThat(done.parameters().maxBurstLength()).isEqualTo(524288);
        assertThat(done.parameters().maxOutstandingR2T()).isEqualTo(4);
    }

    @Test
    void answersThatBreakTheResultFunctionAreInitiatorErrors() {
        LoginDriver d = silentInitiator(TargetPreferences.defaults());
        d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "InitialR2T=No",
                "MaxOutstandingR2T=1");
        // The target offered MaxBurstLength=1048576: a larger answer breaks "minimum".
        LoginStep step = d.transit(1, 3, "MaxBurstLength=2097152");
        assertThat(step.statusCode()).isEqualTo(0x0200);
    }

    @Test
    void rejectedOrIgnoredOffersLeaveTheDefault() {
        LoginDriver d = silentInitiator(TargetPreferences.defaults());
        d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "MaxBurstLength=65536");
        LoginStep done = d.transit(1, 3, "InitialR2T=Reject");
        assertThat(done.complete()).isTrue();
        assertThat(done.parameters().initialR2T()).isTrue();
        assertThat(done.parameters().maxOutstandingR2T()).isEqualTo(1);
    }

    @Test
    void requiredDigestIsOfferedWhenTheInitiatorIsSilent() {
        TargetPreferences prefs = TargetPreferences.builder().headerDigest(DigestPolicy.REQUIRE_CRC32C).build();
        LoginDriver d = silentInitiator(prefs);
        LoginStep offer = d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET,
                "InitialR2T=No", "MaxBurstLength=1048576", "MaxOutstandingR2T=16");
        assertThat(keys(offer)).containsEntry("HeaderDigest", "CRC32C").doesNotContainKey("DataDigest");
        LoginStep done = d.transit(1, 3, "HeaderDigest=CRC32C");
        assertThat(done.complete()).isTrue();
        assertThat(done.parameters().headerDigest()).isTrue();
    }

    @Test
    void requiredDigestRejectedInAnswerFailsAtTransit() {
        TargetPreferences prefs = TargetPreferences.builder().headerDigest(DigestPolicy.REQUIRE_CRC32C).build();
        LoginDriver d = silentInitiator(prefs);
        d.transit(1, 3, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET, "InitialR2T=No",
                "MaxBurstLength=1048576", "MaxOutstandingR2T=16");
        assertThat(d.transit(1, 3, "HeaderDigest=Reject").statusCode()).isEqualTo(0x0200);
    }

    @Test
    void nothingIsOfferedBeforeTheInitiatorAsksToTransit() {
        LoginDriver d = silentInitiator(TargetPreferences.defaults());
        LoginStep step = d.stay(1, "InitiatorName=" + INITIATOR, "TargetName=" + OPEN_TARGET);
        assertThat(keys(step)).containsOnlyKeys("MaxRecvDataSegmentLength", "TargetPortalGroupTag", "TargetAlias");
    }

    @Test
    void discoveryOffersNoIrrelevantKeys() {
        LoginDriver d = silentInitiator(TargetPreferences.defaults());
        LoginStep step = d.transit(1, 3, "InitiatorName=" + INITIATOR, "SessionType=Discovery");
        assertThat(step.complete()).isTrue();
        assertThat(keys(step)).containsOnlyKeys("MaxRecvDataSegmentLength");
    }
}
