package io.tandem.iscsi;

import io.tandem.iscsi.login.LoginConfig;
import io.tandem.iscsi.login.TargetInfo;
import io.tandem.iscsi.login.TargetPreferences;

/** Builds the login phase's configuration from the target's. */
final class LoginConfigs {
    private LoginConfigs() {
    }

    static LoginConfig forTarget(IscsiTargetConfig config) {
        TargetInfo target = new TargetInfo(config.targetName(), config.targetAlias(), config.chap(), config.mutualChap(),
                config.portalGroupTag(), config.allowedInitiators());
        return LoginConfig.builder(name -> name.equals(config.targetName()) ? target : null)
                .discoveryEnabled(true)
                .discoveryChap(config.chap(), config.mutualChap())
                .preferences(TargetPreferences.defaults())
                .build();
    }
}
