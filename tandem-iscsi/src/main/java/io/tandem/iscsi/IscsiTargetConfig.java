package io.tandem.iscsi;

import io.tandem.iscsi.login.ChapCredentials;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.Objects;

/**
 * How one node exports one iSCSI target.
 *
 * @param portals          addresses to listen on (port 0 picks a free port)
 * @param commandWindow    commands a session may have queued or running (MaxCmdSN window)
 * @param nopInterval      idle time after which the target pings the initiator with a NOP-In
 * @param nopTimeout       how long a ping may stay unanswered before the connection is dropped
 * @param chap             credentials initiators must present (null: no authentication)
 * @param mutualChap       credentials the target presents when the initiator asks (null: refuse mutual)
 * @param allowedInitiators iSCSI names that may log in to the target (empty: any)
 */
public record IscsiTargetConfig(String targetName, String targetAlias, int portalGroupTag,
                                int relativeTargetPortId, int targetPortGroup, List<InetSocketAddress> portals,
                                int commandWindow, Duration nopInterval, Duration nopTimeout,
                                ChapCredentials chap, ChapCredentials mutualChap, Set<String> allowedInitiators) {

    public IscsiTargetConfig {
        Objects.requireNonNull(targetName, "targetName");
        portals = List.copyOf(portals);
        if (portals.isEmpty()) {
            throw new IllegalArgumentException("at least one portal is required");
        }
        if (commandWindow < 1 || commandWindow > 4096) {
            throw new IllegalArgumentException("commandWindow must be 1..4096, got " + commandWindow);
        }
        allowedInitiators = Set.copyOf(allowedInitiators == null ? Set.of() : allowedInitiators);
    }

    /** Whether this initiator may log in (and so learn of the target in SendTargets). */
    public boolean admits(String initiatorName) {
        return allowedInitiators.isEmpty()
                || allowedInitiators.stream().anyMatch(name -> name.equalsIgnoreCase(initiatorName));
    }

    /** A target any initiator may log in to. */
    public IscsiTargetConfig(String targetName, String targetAlias, int portalGroupTag, int relativeTargetPortId,
                             int targetPortGroup, List<InetSocketAddress> portals, int commandWindow,
                             Duration nopInterval, Duration nopTimeout, ChapCredentials chap, ChapCredentials mutualChap) {
        this(targetName, targetAlias, portalGroupTag, relativeTargetPortId, targetPortGroup, portals, commandWindow,
                nopInterval, nopTimeout, chap, mutualChap, Set.of());
    }

    public static IscsiTargetConfig defaults(String targetName, InetSocketAddress portal) {
        return new IscsiTargetConfig(targetName, null, 1, 1, 1, List.of(portal), 128,
                Duration.ofSeconds(5), Duration.ofSeconds(15), null, null);
    }

    public IscsiTargetConfig withPortals(List<InetSocketAddress> newPortals) {
        return new IscsiTargetConfig(targetName, targetAlias, portalGroupTag, relativeTargetPortId, targetPortGroup,
                newPortals, commandWindow, nopInterval, nopTimeout, chap, mutualChap, allowedInitiators);
    }

    public IscsiTargetConfig withChap(ChapCredentials newChap, ChapCredentials newMutual) {
        return new IscsiTargetConfig(targetName, targetAlias, portalGroupTag, relativeTargetPortId, targetPortGroup,
                portals, commandWindow, nopInterval, nopTimeout, newChap, newMutual, allowedInitiators);
    }

    public IscsiTargetConfig withNop(Duration interval, Duration timeout) {
        return new IscsiTargetConfig(targetName, targetAlias, portalGroupTag, relativeTargetPortId, targetPortGroup,
                portals, commandWindow, interval, timeout, chap, mutualChap, allowedInitiators);
    }
}
