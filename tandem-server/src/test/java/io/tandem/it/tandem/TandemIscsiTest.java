package io.tandem.it.tandem;

import io.tandem.it.suite.IscsiTargetContract;
import io.tandem.it.target.TargetLauncher;

/** The iSCSI contract against Tandem: no quirks, no tolerated deviations. */
class TandemIscsiTest extends IscsiTargetContract {
    @Override
    protected TargetLauncher createLauncher() throws Exception {
        return new TandemLauncher();
    }
}
