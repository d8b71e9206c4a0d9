package io.tandem.server;

import java.time.Duration;
import java.util.Objects;

/**
 * How a node joins a cluster: the ZooKeeper ensemble and the cluster's name in it. A node with
 * these settings takes its target, LUN and ACL configuration from the cluster (every node applies
 * the same), keeps its SCSI state (reservations, ALUA, resets) in ZooKeeper, and fences itself
 * whenever its ZooKeeper session is in doubt.
 *
 * @param zookeeper      ZooKeeper connect string, {@code host:port[,host:port...]} (optionally with a chroot)
 * @param name           the cluster's name: its nodes share everything under it in ZooKeeper
 * @param sessionTimeout the ZooKeeper session timeout: how long a silent node stays a member.
 *                       Survivors wait at most about this long for a dead node before going on.
 */
public record ClusterSettings(String zookeeper, String name, Duration sessionTimeout) {

    public static final String DEFAULT_NAME = "tandem";
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);

    public ClusterSettings {
        Objects.requireNonNull(zookeeper, "zookeeper");
        if (zookeeper.isBlank() || zookeeper.chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigException("cluster.zookeeper", "a connect string host:port[,host:port...], got '" + zookeeper + "'");
        }
        name = name == null ? DEFAULT_NAME : name;
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new ConfigException("cluster.name", "1-64 characters of A-Z a-z 0-9 . _ -, got " + name);
        }
        sessionTimeout = sessionTimeout == null ? DEFAULT_SESSION_TIMEOUT : sessionTimeout;
        if (sessionTimeout.compareTo(Duration.ofSeconds(2)) < 0 || sessionTimeout.compareTo(Duration.ofMinutes(2)) > 0) {
            throw new ConfigException("cluster.session-timeout", "must be 2..120 seconds, got " + sessionTimeout.toSeconds());
        }
    }

    public static ClusterSettings of(String zookeeper, String name) {
        return new ClusterSettings(zookeeper, name, null);
    }
}
