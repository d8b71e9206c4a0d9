package io.tandem.iscsi.login;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * Everything a {@link LoginNegotiator} needs from the outside. Immutable; share one between
 * connections.
 *
 * @param targetLookup target by the TargetName the initiator sent; null for unknown names (the
 *     function decides how names match, e.g. case-insensitively)
 * @param discoveryEnabled whether SessionType=Discovery is accepted
 * @param discoveryChap credentials an initiator must prove to open a discovery session, or null
 * @param discoveryMutualChap credentials the target proves in discovery sessions, or null
 * @param preferences the target's operational preferences
 * @param minChapSecretLength shortest CHAP secret the target will use; RFC 7143 section 9.2.1
 *     asks for at least 96 bits, hence the default of 12 bytes. A shorter configured secret is
 *     refused by {@link #checkCredentials} and makes a login fail with a target error.
 * @param existingSession whether a TSIH names a live session; used only to pick the status for
 *     a login that tries to add a connection (this target allows one connection per session)
 */
public record LoginConfig(Function<String, TargetInfo> targetLookup, boolean discoveryEnabled,
                          ChapCredentials discoveryChap, ChapCredentials discoveryMutualChap,
                          TargetPreferences preferences, int minChapSecretLength,
                          IntPredicate existingSession) {
    public static final int DEFAULT_MIN_CHAP_SECRET_LENGTH = 12;

    public LoginConfig {
        Objects.requireNonNull(targetLookup, "targetLookup");
        Objects.requireNonNull(preferences, "preferences");
        Objects.requireNonNull(existingSession, "existingSession");
        if (minChapSecretLength < 1) {
            throw new IllegalArgumentException("minChapSecretLength must be at least 1");
        }
        if (discoveryMutualChap != null && discoveryChap == null) {
            throw new IllegalArgumentException("discovery mutual CHAP needs discovery CHAP credentials too");
        }
        if (discoveryMutualChap != null && discoveryChap.sameSecretAs(discoveryMutualChap)) {
            throw new IllegalArgumentException("discovery mutual CHAP secret must differ from the initiator's secret");
        }
        checkSecret("discovery CHAP", discoveryChap, minChapSecretLength);
        checkSecret("discovery mutual CHAP", discoveryMutualChap, minChapSecretLength);
    }

    public static Builder builder(Function<String, TargetInfo> targetLookup) {
        return new Builder(targetLookup);
    }

    /**
     * Checks a target's credentials against this configuration's secret policy. Configuration
     * loaders should call this at startup; the negotiator calls it again at login.
     *
     * @throws IllegalArgumentException if a secret is too short
     */
    public void checkCredentials(TargetInfo target) {
        checkSecret("CHAP for " + target.name(), target.chap(), minChapSecretLength);
        checkSecret("mutual CHAP for " + target.name(), target.mutualChap(), minChapSecretLength);
    }

    private static void checkSecret(String what, ChapCredentials credentials, int min) {
        if (credentials != null && credentials.secretUnsafe().length < min) {
            throw new IllegalArgumentException(what + ": secret shorter than " + min + " bytes");
        }
    }

    public static final class Builder {
        private final Function<String, TargetInfo> targetLookup;
        private boolean discoveryEnabled = true;
        private ChapCredentials discoveryChap;
        private ChapCredentials discoveryMutualChap;
        private TargetPreferences preferences = TargetPreferences.defaults();
        private int minChapSecretLength = DEFAULT_MIN_CHAP_SECRET_LENGTH;
        private IntPredicate existingSession = tsih -> false;

        private Builder(Function<String, TargetInfo> targetLookup) {
            this.targetLookup = targetLookup;
        }

        public Builder discoveryEnabled(boolean v) {
            discoveryEnabled = v;
            return this;
        }

        public Builder discoveryChap(ChapCredentials chap, ChapCredentials mutualChap) {
            discoveryChap = chap;
            discoveryMutualChap = mutualChap;
            return this;
        }

        public Builder preferences(TargetPreferences v) {
            preferences = v;
            return this;
        }

        public Builder minChapSecretLength(int v) {
            minChapSecretLength = v;
            return this;
        }

        public Builder existingSession(IntPredicate v) {
            existingSession = v;
            return this;
        }

        public LoginConfig build() {
            return new LoginConfig(targetLookup, discoveryEnabled, discoveryChap, discoveryMutualChap,
                    preferences, minChapSecretLength, existingSession);
        }
    }
}
