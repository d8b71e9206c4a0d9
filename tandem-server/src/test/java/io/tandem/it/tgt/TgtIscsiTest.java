package io.tandem.it.tgt;

import io.tandem.it.initiator.ChapAlgorithm;
import io.tandem.it.initiator.Violation;
import io.tandem.it.suite.Quirk;
import io.tandem.it.suite.IscsiTargetContract;
import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TgtLauncher;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

import java.util.Set;

/** The contract run against tgt: validates the test initiator against an independent target. */
@Tag("tgt")
class TgtIscsiTest extends IscsiTargetContract {
    @Override
    protected TargetLauncher createLauncher() throws Exception {
        Assumptions.assumeTrue(TgtLauncher.installed(), "tgtd/tgtadm not installed");
        return TgtLauncher.start();
    }

    /**
     * Deviations from RFC 7143 observed in tgt 1.0.85: it sends all Data-In of a command as one
     * sequence regardless of MaxBurstLength, and a READ to a missing LUN gets a Data-In PDU followed
     * by a CHECK CONDITION SCSI Response whose ExpDataSN is 0.
     */
    @Override
    protected Set<Quirk> quirks() {
        return Set.of(Quirk.NO_TEXT_REQUEST_IN_NORMAL_SESSION, Quirk.CHAP_A_7_IS_NOT_SHA256,
                Quirk.ABORT_TASK_IGNORES_COMMANDS_HELD_FOR_CMDSN_ORDER);
    }

    @Override
    protected Set<Violation.Kind> toleratedDeviations() {
        return Set.of(Violation.Kind.DATA_IN_SEQUENCE_OVER_MAX_BURST, Violation.Kind.EXP_DATA_SN);
    }

    /** tgt 1.0.x implements CHAP with MD5 and SHA-1 only. */
    @Override
    protected boolean supportsChapAlgorithm(ChapAlgorithm algorithm) {
        return algorithm == ChapAlgorithm.MD5 || algorithm == ChapAlgorithm.SHA1;
    }
}
