package io.tandem.it.tandem;

import io.tandem.it.suite.IscsiBadInputContract;
import io.tandem.it.target.TargetLauncher;

/** Hostile input against Tandem while a second session does verified I/O. */
class TandemBadInputTest extends IscsiBadInputContract {
    @Override
    protected TargetLauncher createLauncher() throws Exception {
        return new TandemLauncher();
    }
}
