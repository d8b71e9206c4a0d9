package io.tandem.cluster;

import java.util.List;
import java.util.Objects;

/**
 * How the current version came about: the nexus and task whose command made the change (so no
 * node aborts that task or sends its initiator news of its own doing) and the notices every node
 * carries out when applying the version. A transition belongs to exactly one version: the
 * coordinator clears it before handing the record to the next change.
 *
 * @param issuer    the nexus that made the change, or null (administrative change)
 * @param issuerTag the issuing task's tag on that nexus, or -1
 * @param notices   what every node must do on applying the version
 */
public record Transition(NexusId issuer, long issuerTag, List<Notice> notices) {

    public static final Transition NONE = new Transition(null, -1, List.of());

    public Transition {
        notices = List.copyOf(Objects.requireNonNull(notices, "notices"));
    }

    public static Transition by(NexusId issuer, long issuerTag, List<Notice> notices) {
        return new Transition(issuer, issuerTag, notices);
    }

    public boolean isNone() {
        return issuer == null && notices.isEmpty();
    }
}
