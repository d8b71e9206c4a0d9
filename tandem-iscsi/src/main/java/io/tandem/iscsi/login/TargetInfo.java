package io.tandem.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the login needs to know about one target: its name, optional alias, authentication and
 * the portal group tag of the portal the connection arrived on.
 *
 * @param name the target's iSCSI name, as reported back to the session
 * @param alias TargetAlias to declare, or null
 * @param chap credentials the initiator must prove (CHAP required), or null for no authentication
 * @param mutualChap credentials the target proves when the initiator asks for mutual CHAP, or null
 * @param portalGroupTag the TargetPortalGroupTag (0..65535)
 * @param allowedInitiators iSCSI names allowed to log in (compared case-insensitively, as iSCSI
 *     names are); empty means any initiator
 */
public record TargetInfo(String name, String alias, ChapCredentials chap, ChapCredentials mutualChap,
                         int portalGroupTag, Set<String> allowedInitiators) {
    /** Longest iSCSI name (RFC 7143 section 4.2.7.1). */
    public static final int MAX_NAME_LENGTH = 223;

    public TargetInfo {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("target name must be 1.." + MAX_NAME_LENGTH + " bytes");
        }
        if (alias != null && alias.getBytes(StandardCharsets.UTF_8).length > TextParameters.MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException("target alias must be at most " + TextParameters.MAX_VALUE_LENGTH + " bytes");
        }
        if (portalGroupTag < 0 || portalGroupTag > 0xffff) {
            throw new IllegalArgumentException("portal group tag must be 0..65535");
        }
        if (mutualChap != null && chap == null) {
            throw new IllegalArgumentException("mutual CHAP needs initiator CHAP credentials too");
        }
        if (mutualChap != null && chap.sameSecretAs(mutualChap)) {
            // RFC 7143 section 12.1.3: a secret used to authenticate initiators MUST NOT also
            // authenticate the target.
            throw new IllegalArgumentException("mutual CHAP secret must differ from the initiator's secret");
        }
        allowedInitiators = allowedInitiators == null ? Set.of()
                : allowedInitiators.stream().map(n -> n.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /** A target open to every initiator, with one-way CHAP or none. */
    public TargetInfo(String name, String alias, ChapCredentials chap, int portalGroupTag) {
        this(name, alias, chap, null, portalGroupTag, Set.of());
    }

    /** A target open to every initiator, with optional mutual CHAP. */
    public TargetInfo(String name, String alias, ChapCredentials chap, ChapCredentials mutualChap, int portalGroupTag) {
        this(name, alias, chap, mutualChap, portalGroupTag, Set.of());
    }

    public boolean requiresAuthentication() {
        return chap != null;
    }

    public boolean admits(String initiatorName) {
        return allowedInitiators.isEmpty() || allowedInitiators.contains(initiatorName.toLowerCase(Locale.ROOT));
    }
}
