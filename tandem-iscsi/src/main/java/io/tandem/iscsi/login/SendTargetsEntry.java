package io.tandem.iscsi.login;

import java.util.List;
import java.util.Objects;

/**
 * One target in a SendTargets answer.
 *
 * @param targetName the target's iSCSI name
 * @param addresses TargetAddress values, "host:port,tpgt" (see {@link SendTargets#address}); may
 *     be empty, meaning the portal the question came in on
 */
public record SendTargetsEntry(String targetName, List<String> addresses) {
    public SendTargetsEntry {
        Objects.requireNonNull(targetName, "targetName");
        addresses = List.copyOf(addresses);
    }
}
