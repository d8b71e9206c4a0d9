package io.tandem.it.tgt;

import io.tandem.it.initiator.Violation;
import io.tandem.it.suite.Quirk;
import io.tandem.it.suite.IscsiBadInputContract;
import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TgtLauncher;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

import java.util.Set;

/** The hostile-input contract against tgt, to validate the tests themselves. */
@Tag("tgt")
class TgtBadInputTest extends IscsiBadInputContract {
    @Override
    protected TargetLauncher createLauncher() throws Exception {
        Assumptions.assumeTrue(TgtLauncher.installed(), "tgtd/tgtadm not installed");
        return TgtLauncher.start();
    }

    @Override
    protected Set<Quirk> quirks() {
        return Set.of(Quirk.NO_TEXT_REQUEST_IN_NORMAL_SESSION, Quirk.ANSWERS_OVERSIZED_DATA_SEGMENT_WITH_SCSI_STATUS,
                Quirk.WAITS_FOR_OVERSIZED_LOGIN_DATA);
    }

    /** See {@link TgtIscsiTest#toleratedDeviations()}. */
    @Override
    protected Set<Violation.Kind> toleratedDeviations() {
        return Set.of(Violation.Kind.DATA_IN_SEQUENCE_OVER_MAX_BURST, Violation.Kind.EXP_DATA_SN);
    }
}
