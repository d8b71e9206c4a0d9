package io.tandem.iscsi.login;

import java.util.List;

/** What the target accepts for HeaderDigest or DataDigest. */
public enum DigestPolicy {
    /** CRC32C or None, whichever comes first in the initiator's list. */
    ACCEPT_EITHER(List.of(DigestPolicy.CRC32C, DigestPolicy.NONE)),
    /** Only CRC32C; a login that does not settle on it fails. */
    REQUIRE_CRC32C(List.of(DigestPolicy.CRC32C)),
    /** Only None. */
    FORBID(List.of(DigestPolicy.NONE));

    static final String CRC32C = "CRC32C";
    static final String NONE = "None";

    private final List<String> accepted;

    DigestPolicy(List<String> accepted) {
        this.accepted = accepted;
    }

    /** The digest names this policy accepts, as they appear in the keys. */
    public List<String> accepted() {
        return accepted;
    }
}
