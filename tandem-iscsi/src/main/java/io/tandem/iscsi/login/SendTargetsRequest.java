package io.tandem.iscsi.login;

/**
 * What a SendTargets key asks for (RFC 7143 section 13.3 and appendix C).
 *
 * @param scope which targets to report
 * @param targetName the named target for {@link Scope#NAMED}, else null
 */
public record SendTargetsRequest(Scope scope, String targetName) {
    public enum Scope {
        /** "SendTargets=All": every target this initiator may see (discovery sessions only). */
        ALL,
        /** "SendTargets=" with no value in a normal session: the session's own target. */
        SESSION_TARGET,
        /** "SendTargets=&lt;name&gt;": that target only, if the initiator may see it. */
        NAMED
    }
}
